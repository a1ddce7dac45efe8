namespace Distill.Design;

/// <summary>
/// The timing protocol for a block of candidates on a shared machine, independent of the clock: each candidate is a
/// sampler (one call = one timed sample, in ms per forward pass). Samples are taken in rounds, every candidate once per
/// round in an order rotated from round to round, so a neighbour's burst of load falls on all of them alike rather than
/// on every repetition of one candidate. Each round is bracketed by two samples of a <em>reference</em> candidate
/// (one of the block): when either exceeds the reference's best sample so far by more than
/// <see cref="TimingSettings.OutlierPct"/>, the machine was busy during the round and the whole round is discarded and
/// re-run (at most <see cref="TimingSettings.MaxRetries"/> times per block; after that noisy rounds are kept and the
/// outcome says so). A burst that misses the reference's samples falls on a few samples of a candidate only; the
/// minimum and the trimmed mean (<see cref="TimingSettings.TrimPct"/> dropped at each end) ignore it.
/// </summary>
public static class InterleavedTiming
{
    /// <summary>What a block's timing produced.</summary>
    /// <param name="Samples">Per candidate (argument order), its samples from the accepted rounds (the reference's: both brackets of each).</param>
    /// <param name="RejectedRounds">Rounds discarded as noisy and re-run.</param>
    /// <param name="RetriesExhausted">True when noisy rounds had to be kept because the retries ran out.</param>
    /// <param name="Order">Which sampler each call went to, in call order (baseline included): the interleaving, for tests and logs.</param>
    public sealed record Outcome(IReadOnlyList<IReadOnlyList<double>> Samples, int RejectedRounds, bool RetriesExhausted, IReadOnlyList<int> Order);

    /// <summary>Times <paramref name="samplers"/> in interleaved rounds with <paramref name="reference"/> bracketing each round.</summary>
    public static Outcome Run(IReadOnlyList<Func<double>> samplers, int reference, TimingSettings settings)
    {
        int n = samplers.Count;
        if (n == 0) throw new ArgumentException("No candidates to time.", nameof(samplers));
        if (reference < 0 || reference >= n) throw new ArgumentOutOfRangeException(nameof(reference), reference, $"the reference is one of the {n} candidates");
        if (settings.Rounds < 1) throw new ArgumentOutOfRangeException(nameof(settings), settings.Rounds, "at least one round");
        var order = new List<int>();
        double Sample(int i)
        {
            order.Add(i);
            double ms = samplers[i]();
            if (!(ms >= 0) || !double.IsFinite(ms)) throw new InvalidOperationException($"Sampler {i} returned {ms} ms.");
            return ms;
        }

        double best = double.PositiveInfinity;
        for (int b = 0; b < Math.Max(1, settings.BaselineSamples); b++) best = Math.Min(best, Sample(reference));
        var others = Enumerable.Range(0, n).Where(i => i != reference).ToArray();
        var samples = Enumerable.Range(0, n).Select(_ => new List<double>()).ToArray();
        int rejected = 0, round = 0;
        bool exhausted = false;
        double limit = 1 + settings.OutlierPct / 100;
        for (int accepted = 0; accepted < settings.Rounds; round++)
        {
            var roundSamples = new (int Index, double Ms)[others.Length];
            double start = Sample(reference);
            for (int k = 0; k < others.Length; k++)
            {
                int i = others[(k + round) % others.Length]; // rotated: no candidate is always first after the reference
                roundSamples[k] = (i, Sample(i));
            }
            double end = Sample(reference);
            best = Math.Min(best, Math.Min(start, end));
            bool noisy = Math.Max(start, end) > best * limit;
            if (noisy && rejected < settings.MaxRetries)
            {
                rejected++;
                continue;
            }
            if (noisy) exhausted = true;
            samples[reference].Add(start);
            samples[reference].Add(end);
            foreach (var (i, ms) in roundSamples) samples[i].Add(ms);
            accepted++;
        }
        return new Outcome(samples, rejected, exhausted, order);
    }

    /// <summary>Mean of the samples left after dropping <paramref name="trimPct"/> percent at each end (at least one kept).</summary>
    public static double TrimmedMean(IReadOnlyList<double> values, double trimPct)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        int drop = (int)Math.Floor(sorted.Length * Math.Clamp(trimPct, 0, 49.9) / 100);
        return sorted.Skip(drop).Take(sorted.Length - 2 * drop).Average();
    }
}
