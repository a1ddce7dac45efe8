using System.Text.Json;

namespace Distill.Stages.Results;

/// <summary>How stage results are written to and read from summary.json.</summary>
public static class StageResultJson
{
    /// <summary>Non-finite numbers as null; <c>kind</c> may come after <c>name</c> (summaries list the name first).</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        AllowOutOfOrderMetadataProperties = true,
        Converters = { new FiniteDoubleConverter() },
    };
}
