namespace Distill.Training;

/// <summary>
/// Learning rate as a pure function of the step, so a resumed run needs nothing but the step:
/// linear warm-up 0 → lr over <c>warmup_steps</c>, then constant, linear decay to 0, or cosine decay to 0
/// (lr · ½(1 + cos(π·p)), p = progress after warm-up) at <c>total_steps</c>.
/// </summary>
public sealed class LrSchedule(double baseLr, ScheduleKind kind, int warmupSteps, long totalSteps)
{
    /// <summary>Learning rate for the optimizer step with 0-based index <paramref name="step"/>.</summary>
    public double At(long step)
    {
        if (warmupSteps > 0 && step < warmupSteps) return baseLr * (step + 1) / warmupSteps;
        long decaySteps = Math.Max(1, totalSteps - warmupSteps);
        double p = Math.Clamp((double)(step - warmupSteps) / decaySteps, 0, 1);
        return kind switch
        {
            ScheduleKind.Constant => baseLr,
            ScheduleKind.Linear => baseLr * (1 - p),
            ScheduleKind.Cosine => baseLr * 0.5 * (1 + Math.Cos(Math.PI * p)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown schedule"),
        };
    }
}
