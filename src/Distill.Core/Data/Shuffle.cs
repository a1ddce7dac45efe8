namespace Distill.Data;

/// <summary>Seeded example orders: the trainer's epoch shuffles and the subsets (<c>train_limit</c>, transfer sets) drawn from them.</summary>
public static class Shuffle
{
    /// <summary>A Fisher–Yates permutation of 0..n-1 from a generator seeded by (seed, epoch): reproducible across runs and resumes.</summary>
    public static int[] Permutation(int n, long seed, long epoch)
    {
        var rng = new Random(MixSeed(seed, epoch));
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    // SplitMix64 finaliser over (seed, epoch): stable across processes, unlike HashCode.Combine, which is salted per process.
    private static int MixSeed(long seed, long epoch)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)epoch + 0x632BE59BD9B4E019UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }
}
