using Distill.Models;
using Distill.Models.Design;

namespace Distill.Design;

/// <summary>
/// The hardware-aware search of HAKD (Turner et al., "Distilling with Performance Enhanced Students"): enumerate the
/// legal students of a space, time a sample of them on this device, fit a per-block <see cref="LatencyModel"/> to
/// predict the rest, then pick by measured latency rather than by FLOP or parameter proxies. Candidates predicted to
/// meet the budget are timed before they are trusted (<c>measure.verify</c>), so the pick's latency is always a
/// measurement. Independent of runs and of the clock: latencies come from an <see cref="ILatencySource"/>.
/// </summary>
public static class DesignSearch
{
    /// <summary>Every legal candidate of the space with its parameter counts (by <paramref name="count"/>, default a meta-device build), MACs and features.</summary>
    public static IReadOnlyList<Candidate> Candidates(DesignFamily family, SearchSpaceSpec space, IModelConfig baseConfig, DeploymentShape shape,
        Func<IModelConfig, (long Params, long Capacity)>? count = null)
    {
        count ??= family.CountParameters;
        var list = new List<Candidate>();
        foreach (var config in family.Enumerate(space, baseConfig))
        {
            var (parameters, capacity) = count(config);
            list.Add(new Candidate
            {
                Index = list.Count, Config = config, Label = family.Label(config), Dims = family.Dims(config),
                Params = parameters, Capacity = capacity, Macs = family.Macs(config, shape), Features = family.Features(config, shape),
                CacheKey = ProfileCache.Key(family.Family, config, family.InputsText(config, shape), shape.RuntimeText),
            });
        }
        return list;
    }

    /// <summary>
    /// The candidates to time for the fit: sorted by MACs and cut into <paramref name="count"/> bins of equal size, one
    /// drawn per bin with <paramref name="seed"/> (covers the whole compute range, not just one corner). All when the
    /// space is no larger than <paramref name="count"/>.
    /// </summary>
    public static IReadOnlyList<Candidate> Sample(IReadOnlyList<Candidate> candidates, int count, long seed)
    {
        if (candidates.Count <= count) return candidates;
        var sorted = candidates.OrderBy(c => c.Macs).ThenBy(c => c.Index).ToList();
        var random = new Random(unchecked((int)seed));
        var picked = new List<Candidate>();
        for (int b = 0; b < count; b++)
        {
            int lo = (int)((long)b * sorted.Count / count), hi = (int)((long)(b + 1) * sorted.Count / count);
            picked.Add(sorted[random.Next(lo, hi)]);
        }
        return picked;
    }

    /// <summary>
    /// Times the sample (cache hits are free) in interleaved blocks of <c>measure.block</c> candidates, adds every other
    /// cached candidate, fits and cross-validates the latency model. Unstable timings
    /// (<see cref="LatencyMeasurement.Unstable"/>) are left out of the fit while at least one more stable point than
    /// the model has features remains.
    /// </summary>
    public static DesignProfile Profile(DesignFamily family, DeploymentShape shape, IReadOnlyList<Candidate> candidates, MeasureSpec measure,
        ILatencySource source, Action<string>? log = null)
    {
        if (candidates.Count == 0) throw new ArgumentException("The design space has no candidates.", nameof(candidates));
        var measured = new Dictionary<int, LatencyMeasurement>();
        var sample = Sample(candidates, measure.MaxMeasured, measure.Seed);
        var toTime = new List<Candidate>();
        foreach (var c in sample)
        {
            if (source.Cached(c) is { } m) measured[c.Index] = m;
            else toTime.Add(c);
        }
        int fresh = 0;
        foreach (var (c, m) in MeasureInBlocks(toTime, measure.Block, source))
        {
            measured[c.Index] = m;
            fresh++;
            log?.Invoke(TimedLine(fresh, toTime.Count, c, m));
        }
        RetimeUnstable(toTime, measured, measure, source, log);
        foreach (var c in candidates)
            if (!measured.ContainsKey(c.Index) && source.Cached(c) is { } m) measured[c.Index] = m;

        var stable = measured.Where(kv => !kv.Value.Unstable).Select(kv => kv.Key).Order().ToList();
        var fitted = stable.Count >= Math.Max(3, family.FeatureNames.Count + 1) ? stable : measured.Keys.Order().ToList();
        var x = fitted.Select(i => (IReadOnlyList<double>)candidates[i].Features).ToList();
        var y = fitted.Select(i => measured[i].Value(measure.Statistic)).ToList();
        var model = LatencyModel.Fit(family.FeatureNames, x, y);
        var holdout = LatencyModel.CrossValidate(family.FeatureNames, x, y, measure.Folds, measure.Seed);
        return new DesignProfile(family, shape, candidates, measured, fitted, model, holdout, fresh, measure.Statistic);
    }

    /// <summary>
    /// The candidates timed in interleaved blocks of at most <paramref name="block"/> (consecutive by MACs, so a block's
    /// candidates and its median reference are of comparable cost), with their measurements, in timing order.
    /// </summary>
    public static IEnumerable<(Candidate Candidate, LatencyMeasurement Measurement)> MeasureInBlocks(IReadOnlyList<Candidate> candidates, int block, ILatencySource source)
    {
        var ordered = candidates.OrderBy(c => c.Macs).ThenBy(c => c.Index).ToList();
        int blocks = (ordered.Count + Math.Max(1, block) - 1) / Math.Max(1, block);
        for (int b = 0; b < blocks; b++)
        {
            // Even block sizes (12 → 6 + 6 rather than 8 + 4), so no block is left with a lone candidate as its own reference.
            int lo = (int)((long)b * ordered.Count / blocks), hi = (int)((long)(b + 1) * ordered.Count / blocks);
            var part = ordered.GetRange(lo, hi - lo);
            var measured = source.MeasureMany(part);
            for (int i = 0; i < part.Count; i++) yield return (part[i], measured[i]);
        }
    }

    /// <summary>
    /// Times the candidates of <paramref name="timed"/> whose measurement in <paramref name="measured"/> is unstable
    /// again, together, up to <c>measure.retime_unstable</c> times, and keeps the timing with the smaller spread (in
    /// <paramref name="measured"/> and through <see cref="ILatencySource.Keep"/>). A neighbour's burst that missed the
    /// reference samples spoils one block, rarely the next.
    /// </summary>
    public static void RetimeUnstable(IReadOnlyList<Candidate> timed, IDictionary<int, LatencyMeasurement> measured, MeasureSpec measure,
        ILatencySource source, Action<string>? log = null)
    {
        for (int attempt = 0; attempt < measure.RetimeUnstable; attempt++)
        {
            var unstable = timed.Where(c => measured.TryGetValue(c.Index, out var m) && m.Unstable).ToList();
            if (unstable.Count == 0) return;
            int n = 0;
            foreach (var (c, again) in MeasureInBlocks(unstable, measure.Block, source))
            {
                var first = measured[c.Index];
                var kept = again.SpreadPct < first.SpreadPct ? again : first;
                measured[c.Index] = kept;
                source.Keep(c, kept);
                log?.Invoke("again " + TimedLine(++n, unstable.Count, c, again) + (ReferenceEquals(kept, again) ? " (kept)" : " (earlier timing kept)"));
            }
        }
    }

    /// <summary>The log line of one fresh timing.</summary>
    public static string TimedLine(int n, int of, Candidate c, LatencyMeasurement m) =>
        FormattableString.Invariant($"timed {n}/{of}: {c.Label} median {m.MedianMs:0.000} ms (IQR {m.P25Ms:0.000}-{m.P75Ms:0.000}, spread {m.SpreadPct:0.0}%, min {m.MinMs:0.000}, trimmed mean {m.TrimmedMeanMs ?? double.NaN:0.000}")
        + (m.RejectedRounds > 0 ? FormattableString.Invariant($", {m.RejectedRounds} noisy rounds re-run in its block") : "") + ")" + (m.Unstable ? " UNSTABLE" : "");

    /// <summary>Whether a candidate passes the parameter and byte budgets.</summary>
    public static bool WithinSizeBudget(Candidate c, BudgetSpec budget) =>
        (budget.Params is not { } p || c.Params <= p) && (budget.Bytes is not { } b || c.Bytes <= b);

    /// <summary>
    /// The default (and proxy) pick. Candidates within the size budgets are visited by capacity, largest first; one is
    /// accepted when its measured median is within the latency budget. Unmeasured candidates predicted within budget
    /// are timed first, at most <paramref name="verify"/> of them; beyond that only already-measured candidates can be
    /// accepted. Stops after <paramref name="topK"/> accepted. When none is accepted, the fastest measured candidate is
    /// picked with a warning.
    /// </summary>
    /// <param name="retimeMarginPct">A candidate measured within this many percent of the budget (either side) is timed
    /// once more (<see cref="DesignProfile.Retime"/>) before it is accepted or rejected; 0 = never.</param>
    public static DesignOutcome PickByCapacity(DesignProfile profile, BudgetSpec budget, ILatencySource source, int verify, int topK, PickKind kind = PickKind.Capacity,
        double retimeMarginPct = 0)
    {
        var warnings = new List<string>();
        var eligible = profile.Candidates.Where(c => WithinSizeBudget(c, budget)).ToList();
        if (eligible.Count == 0)
        {
            warnings.Add($"no candidate meets the size budget ({SizeBudgetText(budget)}); searching all candidates by latency alone");
            eligible = profile.Candidates.ToList();
        }
        var accepted = new List<Candidate>();
        var overBudget = new List<Candidate>();
        int timed = 0;
        foreach (var c in eligible.OrderByDescending(c => c.Capacity).ThenBy(profile.Expected).ThenBy(c => c.Index))
        {
            if (accepted.Count >= topK) break;
            if (!profile.Measured.ContainsKey(c.Index))
            {
                if (profile.Predicted(c) > budget.LatencyMs || timed >= verify) continue;
                profile.Ensure(c, source);
                timed++;
            }
            if (retimeMarginPct > 0 && NearBudget(profile.MeasuredMs(c), budget.LatencyMs, retimeMarginPct) && profile.Measured[c.Index].RetimedFromMs is null)
                profile.Retime(c, source);
            if (profile.MeasuredMs(c) <= budget.LatencyMs) accepted.Add(c);
            else overBudget.Add(c);
        }
        Candidate pick;
        if (accepted.Count > 0) pick = accepted[0];
        else
        {
            var measuredEligible = eligible.Where(c => profile.Measured.ContainsKey(c.Index)).ToList();
            var pool = measuredEligible.Count > 0 ? measuredEligible : profile.Candidates.Where(c => profile.Measured.ContainsKey(c.Index)).ToList();
            pick = pool.OrderBy(profile.MeasuredMs).First();
            warnings.Add($"no candidate was measured within the {budget.LatencyMs:0.###} ms budget; picked the fastest measured one " +
                         $"({pick.Label}, {profile.MeasuredMs(pick):0.###} ms): widen the search space towards smaller models or raise the budget");
        }
        return new DesignOutcome
        {
            Pick = pick, Kind = kind, Accepted = accepted, RejectedOverBudget = overBudget, VerifyTimings = timed, Warnings = warnings,
        };
    }

    /// <summary>
    /// The parameter-count rule HAKD compares against: latency taken as proportional to parameter count and anchored at
    /// the teacher, so the parameter budget is <c>teacher capacity × budget / teacher latency</c>; the largest candidate
    /// (within the size budgets) under it is picked without consulting any timing. The pick is then timed, so its real
    /// latency can be checked like any other.
    /// </summary>
    public static DesignOutcome PickByParamRule(DesignProfile profile, BudgetSpec budget, ILatencySource source, long teacherCapacity, double teacherLatencyMs)
    {
        if (teacherCapacity <= 0 || !(teacherLatencyMs > 0))
            throw new ArgumentException($"The parameter rule needs the teacher's capacity and latency (got {teacherCapacity} parameters, {teacherLatencyMs} ms).");
        var warnings = new List<string>();
        double paramBudget = teacherCapacity * budget.LatencyMs / teacherLatencyMs;
        var eligible = profile.Candidates.Where(c => WithinSizeBudget(c, budget)).ToList();
        if (eligible.Count == 0) eligible = profile.Candidates.ToList();
        var under = eligible.Where(c => c.Capacity <= paramBudget).ToList();
        Candidate pick;
        if (under.Count > 0) pick = under.OrderByDescending(c => c.Capacity).ThenBy(c => c.Macs).ThenBy(c => c.Index).First();
        else
        {
            pick = eligible.OrderBy(c => c.Capacity).ThenBy(c => c.Index).First();
            warnings.Add($"no candidate has at most {paramBudget:0} parameters (the parameter rule's budget); picked the smallest");
        }
        profile.Ensure(pick, source);
        return new DesignOutcome
        {
            Pick = pick, Kind = PickKind.ParamRule, Accepted = [pick], RejectedOverBudget = [], VerifyTimings = 0, Warnings = warnings,
            ParamBudget = paramBudget,
        };
    }

    /// <summary>Whether <paramref name="ms"/> is within <paramref name="marginPct"/> percent of the budget, either side.</summary>
    public static bool NearBudget(double ms, double budgetMs, double marginPct) => Math.Abs(ms - budgetMs) <= budgetMs * marginPct / 100;

    /// <summary>Candidates not dominated by another with at least as much capacity and at most the latency (one strictly better).</summary>
    public static IReadOnlyList<Candidate> ParetoFront(IEnumerable<Candidate> candidates, Func<Candidate, double> latency)
    {
        var front = new List<Candidate>();
        long best = long.MinValue;
        foreach (var c in candidates.OrderBy(latency).ThenByDescending(c => c.Capacity))
        {
            if (c.Capacity <= best) continue;
            front.Add(c);
            best = c.Capacity;
        }
        return front;
    }

    private static string SizeBudgetText(BudgetSpec b) =>
        string.Join(", ", new[] { b.Params is { } p ? $"params ≤ {p:N0}" : null, b.Bytes is { } y ? $"bytes ≤ {y:N0}" : null }.Where(s => s is not null));
}
