namespace Distill.Compression.Pruning;

/// <summary>
/// Gradual pruning schedule of Zhu &amp; Gupta 2017 ("To prune, or not to prune"): from step t0 =
/// <see cref="StartStep"/> the target sparsity rises every Δt = <see cref="Frequency"/> steps as
/// s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(t_end − t0))³ until <see cref="EndStep"/>, where it reaches s_f and stays.
/// Pruning fast at first and slowly near the end lets the network recover while few weights remain. Steps are
/// optimizer steps completed; masks are recomputed at t0, t0 + Δt, … and at t_end.
/// </summary>
public sealed record CubicSparsitySchedule
{
    public CubicSparsitySchedule(double initial, double final, long startStep, long endStep, long frequency)
    {
        if (initial is < 0 or > 1 || final is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(final), "sparsities are fractions in [0, 1]");
        if (final < initial) throw new ArgumentException($"final sparsity {final} is below the initial sparsity {initial}.");
        if (startStep < 0 || endStep <= startStep) throw new ArgumentException($"end_step ({endStep}) must be after start_step ({startStep}) and start_step >= 0.");
        if (frequency < 1) throw new ArgumentOutOfRangeException(nameof(frequency), "frequency must be at least 1 step");
        (Initial, Final, StartStep, EndStep, Frequency) = (initial, final, startStep, endStep, frequency);
    }

    public double Initial { get; }
    public double Final { get; }
    public long StartStep { get; }
    public long EndStep { get; }
    public long Frequency { get; }

    /// <summary>True when masks are recomputed after <paramref name="step"/> steps.</summary>
    public bool IsUpdateStep(long step) =>
        step >= StartStep && step <= EndStep && ((step - StartStep) % Frequency == 0 || step == EndStep);

    /// <summary>The target sparsity in force after <paramref name="step"/> steps: 0 before t0, the value of the latest update
    /// step, <see cref="Final"/> from <see cref="EndStep"/> on.</summary>
    public double At(long step)
    {
        if (step < StartStep) return 0;
        if (step >= EndStep) return Final;
        long update = StartStep + (step - StartStep) / Frequency * Frequency;
        double progress = (double)(update - StartStep) / (EndStep - StartStep);
        return Final + (Initial - Final) * Math.Pow(1 - progress, 3);
    }
}
