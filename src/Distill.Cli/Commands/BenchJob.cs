using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Cli.Commands;

/// <summary>
/// One measured run of <c>distill bench</c>, written as JSON and read by both sides (Distill's worker and
/// <c>bench/torch_peer.py</c>): models, initial weights, example order, optimisation and loss settings, threads.
/// Everything that decides the work done is in here, so both sides do the same work.
/// </summary>
internal sealed record BenchJob
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

/// <summary>A model of a bench job: family key and its config as Distill serialises it.</summary>
internal sealed record BenchModel(string Family, JsonElement Config);

/// <summary>The data of a bench job (MNIST-style image data for the peer).</summary>
internal sealed record BenchData(string Dataset, string Path, double[] Mean, double[] Std, int? TrainLimit, int? EvalLimit);

/// <summary>Optimisation settings shared by both sides (AdamW, <see cref="Distill.Training.LrSchedule"/>).</summary>
internal sealed record BenchTrain(double Lr, double WeightDecay, int WarmupSteps, string Schedule, double? GradClip);

/// <summary>The distillation terms: soft targets, and optionally one FitNets hint with its projector's shape.</summary>
internal sealed record BenchTerms(BenchSoftTarget SoftTarget, BenchHint? Hint);

internal sealed record BenchSoftTarget(string Name, double Weight, double Temperature, double Alpha);

internal sealed record BenchHint(string Name, double Weight, string Student, string Teacher, bool Conv, long InFeatures, long OutFeatures);
