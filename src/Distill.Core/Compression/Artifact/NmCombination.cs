namespace Distill.Compression.Artifact;

/// <summary>
/// The combinatorial number system for N:M position sets: the C(M, N) sets of N offsets out of M, ordered
/// lexicographically by their ascending offsets, are numbered 0 … C(M, N) − 1 (for 2:4: {0,1}=0, {0,2}=1, {0,3}=2,
/// {1,2}=3, {1,3}=4, {2,3}=5). Storing this rank per group costs ceil(log2 C(M, N)) bits instead of N · ceil(log2 M)
/// for the offsets one by one (2:4: 3 bits instead of 4 per group of 4 weights; the entropy of a uniform choice is
/// log2 6 ≈ 2.58, which Huffman coding of the ranks approaches).
/// </summary>
public static class NmCombination
{
    /// <summary>Largest M for which ranks are defined here (C(32, 16) &lt; 2^30, so a rank fits an int).</summary>
    public const int MaxM = 32;

    /// <summary>Pascal's triangle up to row <see cref="MaxM"/>: C(n, k) = C(n − 1, k − 1) + C(n − 1, k).</summary>
    private static readonly long[,] Pascal = BuildPascal();

    /// <summary>Binomial coefficient C(n, k) (0 when k &lt; 0 or k &gt; n).</summary>
    public static long Binomial(int n, int k)
    {
        if (k < 0 || k > n || n < 0) return 0;
        if (n <= MaxM) return Pascal[n, k];
        k = Math.Min(k, n - k);
        long c = 1;
        for (int i = 1; i <= k; i++) c = c * (n - k + i) / i; // exact: c·(n−k+i) is divisible by i at every step
        return c;
    }

    private static long[,] BuildPascal()
    {
        var c = new long[MaxM + 1, MaxM + 1];
        for (int n = 0; n <= MaxM; n++)
        {
            c[n, 0] = 1;
            for (int k = 1; k <= n; k++) c[n, k] = c[n - 1, k - 1] + (k < n ? c[n - 1, k] : 0);
        }
        return c;
    }

    /// <summary>Bits of one rank: ceil(log2 C(M, N)).</summary>
    public static int CodeBits(int n, int m)
    {
        Check(n, m);
        return ArtifactEncoder.OffsetBits(checked((int)Binomial(m, n)));
    }

    /// <summary>The lexicographic rank of the ascending offsets <paramref name="offsets"/> (N of them, each below M).</summary>
    public static long Rank(ReadOnlySpan<int> offsets, int m)
    {
        int n = offsets.Length;
        Check(n, m);
        long rank = 0;
        int previous = -1;
        for (int i = 0; i < n; i++)
        {
            if (offsets[i] <= previous || offsets[i] >= m)
                throw new ArgumentException($"N:M offsets must be ascending and below M = {m}; got [{string.Join(", ", offsets.ToArray())}].", nameof(offsets));
            // Every set that agrees on offsets[0..i) and has a smaller i-th offset v comes first: C(M − 1 − v, N − 1 − i) of them.
            for (int v = previous + 1; v < offsets[i]; v++) rank += Binomial(m - 1 - v, n - 1 - i);
            previous = offsets[i];
        }
        return rank;
    }

    /// <summary>The ascending offsets of rank <paramref name="rank"/> (the inverse of <see cref="Rank"/>), written to <paramref name="offsets"/>.</summary>
    public static void Unrank(long rank, int m, Span<int> offsets)
    {
        int n = offsets.Length;
        Check(n, m);
        if (rank < 0 || rank >= Binomial(m, n))
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"an N:M combination index of {n}:{m} is below C({m}, {n}) = {Binomial(m, n)}");
        int v = 0;
        for (int i = 0; i < n; i++)
            for (; ; v++)
            {
                long below = Binomial(m - 1 - v, n - 1 - i);
                if (rank < below)
                {
                    offsets[i] = v++;
                    break;
                }
                rank -= below;
            }
    }

    private static void Check(int n, int m)
    {
        if (n < 1 || n >= m || m > MaxM)
            throw new ArgumentOutOfRangeException(nameof(m), $"N:M combination indices need 1 <= N < M <= {MaxM}; got {n}:{m}.");
    }
}
