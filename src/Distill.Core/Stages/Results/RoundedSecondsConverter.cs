using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>wall_seconds</c> to the millisecond: more digits would only be noise.</summary>
public sealed class RoundedSecondsConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => writer.WriteNumberValue(Math.Round(value, 3));
}
