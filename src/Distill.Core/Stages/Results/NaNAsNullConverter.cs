using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary>An optional number whose JSON null means NaN (present but not measured), as against an absent key (null):
/// so a summary read back and written again keeps the key.</summary>
public sealed class NaNAsNullConverter : JsonConverter<double?>
{
    public override bool HandleNull => true;

    public override double? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double? value, JsonSerializerOptions options)
    {
        if (value is { } v && double.IsFinite(v)) writer.WriteNumberValue(v);
        else writer.WriteNullValue();
    }
}
