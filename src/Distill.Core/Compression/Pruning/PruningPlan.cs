namespace Distill.Compression.Pruning;

/// <summary>
/// When and how masks change during a pruning stage. Magnitude pruning is one-shot (the final sparsity at step 0,
/// then fine-tuning with the masks fixed) or gradual (<see cref="CubicSparsitySchedule"/>); N:M pruning is one-shot.
/// Per-weight sparsity overrides scale with the schedule: a weight whose override is s_w follows s_w·s_t/s_f.
/// </summary>
public sealed class PruningPlan
{
    private readonly PruneMethod _method;
    private readonly PruneScope _scope;
    private readonly double _sparsity;
    private readonly IReadOnlyList<(ModuleGlob Pattern, double Sparsity)> _overrides;
    private readonly NmPattern? _pattern;

    private PruningPlan(PruneMethod method, PruneScope scope, double sparsity, IReadOnlyList<(ModuleGlob, double)> overrides,
        CubicSparsitySchedule? schedule, NmPattern? pattern)
    {
        (_method, _scope, _sparsity, _overrides, Schedule, _pattern) = (method, scope, sparsity, overrides, schedule, pattern);
    }

    public CubicSparsitySchedule? Schedule { get; }

    /// <summary>The sparsity the plan ends at (over the selected weights, before per-weight overrides).</summary>
    public double FinalSparsity => _method == PruneMethod.NM ? _pattern!.Sparsity : _sparsity;

    /// <summary>Magnitude pruning to <paramref name="sparsity"/>, one-shot when <paramref name="schedule"/> is null.</summary>
    /// <param name="overrides">Per-weight sparsity by module-path pattern (first match wins); only with <see cref="PruneScope.Layer"/>.</param>
    public static PruningPlan Magnitude(PruneScope scope, double sparsity, IReadOnlyList<(ModuleGlob Pattern, double Sparsity)>? overrides = null,
        CubicSparsitySchedule? schedule = null)
    {
        overrides ??= [];
        if (scope == PruneScope.Global && overrides.Count > 0)
            throw new ArgumentException("Per-layer sparsity overrides need scope: layer (a global threshold sets each layer's sparsity itself).");
        if (schedule is not null && Math.Abs(schedule.Final - sparsity) > 1e-12)
            throw new ArgumentException($"The schedule ends at {schedule.Final}, the plan at {sparsity}.");
        return new PruningPlan(PruneMethod.Magnitude, scope, sparsity, overrides, schedule, null);
    }

    public static PruningPlan NM(NmPattern pattern) => new(PruneMethod.NM, PruneScope.Layer, pattern.Sparsity, [], null, pattern);

    /// <summary>Masks at the start of a fresh stage (0 steps done). Returns true when they changed.</summary>
    public bool Start(MaskSet masks) => Schedule is null ? PruneTo(masks, FinalSparsity) : Update(masks, 0);

    /// <summary>Masks after <paramref name="step"/> optimizer steps. Returns true when they were recomputed.</summary>
    public bool Update(MaskSet masks, long step)
    {
        if (Schedule is null || !Schedule.IsUpdateStep(step)) return false;
        return PruneTo(masks, Schedule.At(step));
    }

    private bool PruneTo(MaskSet masks, double sparsity)
    {
        if (_method == PruneMethod.NM)
        {
            NmPruning.Prune(masks, _pattern!);
            return true;
        }
        if (_scope == PruneScope.Global)
        {
            MagnitudePruning.PruneGlobal(masks, sparsity);
            return true;
        }
        double scale = _sparsity > 0 ? sparsity / _sparsity : 0;
        MagnitudePruning.PruneLayers(masks, sparsity, name =>
        {
            string module = name.EndsWith(".weight", StringComparison.Ordinal) ? name[..^".weight".Length] : name;
            foreach (var (pattern, s) in _overrides)
                if (pattern.IsMatch(module)) return Math.Min(1.0, s * scale);
            return null;
        });
        return true;
    }
}
