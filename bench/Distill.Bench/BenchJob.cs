using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Bench;

/// <summary>
/// One measured run of <c>distill bench</c>, written as JSON and read by both sides (Distill's worker and
/// <c>bench/torch_peer.py</c>): models, initial weights, example order, optimisation and loss settings, threads.
/// Everything that decides the work done is in here, so both sides do the same work.
/// </summary>
public sealed record BenchJob
{
    public required string Workload { get; init; }

    /// <summary><c>kd</c> (teacher every step, fp32), <c>cache</c> (teacher-output cache), <c>bf16</c> (both models in bfloat16).</summary>
    public required string Variant { get; init; }

    public required int Threads { get; init; }
    public required long Seed { get; init; }
    public required int BatchSize { get; init; }
    public required int StepsPerEpoch { get; init; }
    public required long TotalSteps { get; init; }

    /// <summary>Sample RSS every this many steps.</summary>
    public required int RssEvery { get; init; }

    public required BenchModel Teacher { get; init; }
    public required BenchModel Student { get; init; }
    public required BenchData Data { get; init; }
    public required BenchTrain Train { get; init; }
    public required BenchTerms Terms { get; init; }

    /// <summary>safetensors with <c>teacher.*</c>, <c>student.*</c>, <c>projector.&lt;term&gt;.*</c> (initial student and projector, trained teacher).</summary>
    public required string Weights { get; init; }

    /// <summary>int32 little-endian, (epochs, steps_per_epoch · batch_size): the training-set indices of every step, in order.</summary>
    public required string Orders { get; init; }

    /// <summary>int32 little-endian: the test-set indices evaluated for accuracy.</summary>
    public required string EvalIndices { get; init; }

    /// <summary>Distill only: folder for the teacher cache of the <c>cache</c> variant (deleted afterwards).</summary>
    public string? CacheDir { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // NaN where a measure does not apply
    };
}
