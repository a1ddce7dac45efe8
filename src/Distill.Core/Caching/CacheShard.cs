namespace Distill.Caching;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> of a teacher-cache build (<c>--shard i/N</c>): the windows of
/// <see cref="CacheBuildSettings.WindowExamples"/> examples are split into N runs of consecutive windows (sizes
/// differing by at most one), shard i takes run i.
/// </summary>
public sealed record CacheShard(int Index, int Count)
{
    /// <summary>Parses <c>i/N</c> (0 ≤ i &lt; N); the error says what was expected.</summary>
    public static CacheShard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n) || n < 1)
            throw new FormatException($"--shard '{text}': expected i/N with N >= 1, e.g. 0/8 (Slurm: $SLURM_ARRAY_TASK_ID/8; Kubernetes: $JOB_COMPLETION_INDEX/8).");
        if (i < 0 || i >= n)
            throw new FormatException($"--shard '{text}': the index must be 0 to {n - 1} for {n} shards.");
        return new CacheShard(i, n);
    }

    /// <summary>The example range [From, To) of this shard when <paramref name="examples"/> are built in windows of <paramref name="window"/>.</summary>
    public (int From, int To) Range(int examples, int window)
    {
        int windows = (examples + window - 1) / window;
        if (Count > windows)
            throw new TeacherCacheException(
                $"{Count} shards of a teacher cache of {examples} examples, built in {windows} window(s) of {window} examples " +
                $"(a window is 16 teacher batches): a shard needs at least one window; use at most {windows} shards, or a smaller distill.cache.batch_size.");
        int first = (int)((long)Index * windows / Count), last = (int)((long)(Index + 1) * windows / Count);
        return (first * window, Math.Min(examples, last * window));
    }

    /// <summary>The shard's folder name inside the shards folder.</summary>
    public string FolderName => $"shard-{Index:D4}-of-{Count:D4}";

    public override string ToString() => $"{Index}/{Count}";
}
