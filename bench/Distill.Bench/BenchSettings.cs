namespace Distill.Bench;

/// <summary>What one <c>distill bench</c> invocation runs: the workload, repetitions, sizes, variants and where things are.</summary>
public sealed record BenchSettings
{
    /// <summary>The variants a bench can run on the Distill side (<c>kd</c> is also run by the PyTorch peer).</summary>
    public static IReadOnlyList<string> AllVariants { get; } = ["kd", "cache", "bf16"];

    public required BenchWorkload Workload { get; init; }
    public int Reps { get; init; } = 3;
    public required int Epochs { get; init; }
    public int Threads { get; init; } = 2;
    public IReadOnlyList<string> Variants { get; init; } = AllVariants;
    public required int RssSteps { get; init; }
    public int? TrainLimit { get; init; }
    public required int TeacherSteps { get; init; }

    /// <summary>Absolute data folder (MNIST IDX, CIFAR-10 binary or SST-2 tsv files).</summary>
    public required string DataDir { get; init; }

    /// <summary>Absolute tokenizer folder for text workloads.</summary>
    public string? TokenizerDir { get; init; }

    /// <summary>Results folder: <c>&lt;workload&gt;-&lt;utc&gt;.{json,md}</c> and <c>latest.*</c>; runs work in <c>work/</c> under it.</summary>
    public required string OutDir { get; init; }

    /// <summary>Interpreter with Debian's torch.</summary>
    public required string Python { get; init; }

    /// <summary>bench/torch_peer.py.</summary>
    public required string Peer { get; init; }
}
