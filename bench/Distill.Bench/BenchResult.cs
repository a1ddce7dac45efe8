namespace Distill.Bench;

/// <summary>What one bench run measured (written by the Distill worker and by <c>bench/torch_peer.py</c> in the same JSON shape).</summary>
public sealed record BenchResult
{
    public string Side { get; init; } = "";
    public string Variant { get; init; } = "";
    public int Threads { get; init; }

    /// <summary>Wall time of every optimizer step: batch, teacher (or cache lookup), student, losses, backward, clipping, optimizer.</summary>
    public double[] StepSeconds { get; init; } = [];

    /// <summary>Sum of the step times of each complete epoch.</summary>
    public double[] EpochSeconds { get; init; } = [];

    /// <summary>The whole distillation job: cache hashing and building (if any) plus all training steps; process start-up and final evaluation excluded.</summary>
    public double JobSeconds { get; init; }

    /// <summary>Part of <see cref="JobSeconds"/> spent hashing and building the teacher cache.</summary>
    public double CacheSeconds { get; init; }

    /// <summary>Total loss of every step.</summary>
    public double[] Losses { get; init; } = [];

    /// <summary>Test accuracy of the student after training.</summary>
    public double Accuracy { get; init; }

    /// <summary>
    /// Peak resident set size of the process (VmHWM) up to the end of training, MB: data, models, cache build and every
    /// step; the final evaluation (one large batch, not part of the distillation job) is left out, its RSS is in
    /// <see cref="PhaseRssMb"/> (<c>evaluated</c>).
    /// </summary>
    public double PeakRssMb { get; init; }

    /// <summary>VmRSS (MB) after each phase of the run: <c>data</c>, <c>models</c>, <c>cache</c>, <c>trained</c>, <c>evaluated</c>; and the high-water mark (VmHWM) after <c>data</c>, <c>cache</c> and <c>trained</c> (<c>*_peak</c>).</summary>
    public Dictionary<string, double> PhaseRssMb { get; init; } = [];

    /// <summary>(step, VmRSS MB) samples.</summary>
    public double[][] RssMb { get; init; } = [];

    public double ProcessSeconds { get; init; }

    /// <summary>1, 5, 15-minute load averages at the end of the run.</summary>
    public double[] LoadAverage { get; init; } = [];

    /// <summary>1-minute load average when the run started (recorded by the orchestrator).</summary>
    public double LoadBefore { get; set; }

    /// <summary><c>main</c> (the repeated runs) or <c>rss</c> (the long RSS run); recorded by the orchestrator.</summary>
    public string Tag { get; set; } = "main";

    /// <summary>Repetition index (recorded by the orchestrator).</summary>
    public int Rep { get; set; }
}
