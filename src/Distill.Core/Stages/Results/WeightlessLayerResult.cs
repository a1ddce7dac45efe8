using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary>One weight a <c>weightless</c> stage encoded: its Bloomier table and the false positives frozen into it.</summary>
public sealed record WeightlessLayerResult
{
    [JsonPropertyName("shape")] public long[] Shape { get; init; } = [];

    /// <summary>Non-zeros stored in the filter.</summary>
    [JsonPropertyName("nonzeros")] public long Nonzeros { get; init; }

    /// <summary>Bits per cell (t).</summary>
    [JsonPropertyName("bits")] public int Bits { get; init; }

    [JsonPropertyName("cells")] public int Cells { get; init; }

    /// <summary>Codebook entries (shared values); a pruned position is a false positive with probability codes / 2^t.</summary>
    [JsonPropertyName("codes")] public int Codes { get; init; }

    /// <summary>Pruned positions that decode to a centroid (frozen into the weight).</summary>
    [JsonPropertyName("false_positives")] public long FalsePositives { get; init; }

    /// <summary>false_positives / pruned positions.</summary>
    [JsonPropertyName("false_positive_rate")] public double FalsePositiveRate { get; init; }

    /// <summary>codes / 2^t.</summary>
    [JsonPropertyName("expected_false_positive_rate")] public double ExpectedFalsePositiveRate { get; init; }

    /// <summary>Bytes of the record's params, codebook and cells (without name and shape).</summary>
    [JsonPropertyName("bytes")] public long Bytes { get; init; }

    /// <summary>The weight's dense fp32 bytes / <c>bytes</c>.</summary>
    [JsonPropertyName("compression_ratio")] public double CompressionRatio { get; init; }

    /// <summary>Seeds tried until the hypergraph peeled.</summary>
    [JsonPropertyName("attempts")] public int Attempts { get; init; }

    /// <summary>Measured time to decode the table into the dense weight once (this machine, under whatever load it had).</summary>
    [JsonPropertyName("decode_ms")] public double DecodeMs { get; init; }
}
