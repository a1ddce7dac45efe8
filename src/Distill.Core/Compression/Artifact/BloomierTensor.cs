namespace Distill.Compression.Artifact;

/// <summary>
/// A tensor stored as a Bloomier filter and a codebook (values kind BLOOMIER, docs/artifact-format.md): position p
/// holds <c>Codebook[code]</c> when the filter's code of p is below the codebook's size, else zero. The stored
/// positions decode exactly; a pruned position whose pseudo-random code falls inside the codebook (probability
/// |codebook| / 2^t) decodes to a centroid: a false positive, which Weightless freezes into the model.
/// </summary>
public sealed record BloomierTensor(BloomierFilter Filter, float[] Codebook)
{
    /// <summary>The dense row-major values of a tensor of <paramref name="numel"/> entries.</summary>
    public float[] Decode(long numel)
    {
        var dense = new float[numel];
        for (long p = 0; p < numel; p++)
        {
            int c = Filter.Query(p);
            if (c < Codebook.Length) dense[p] = Codebook[c];
        }
        return dense;
    }

    /// <summary>Builds the table of a tensor whose non-zeros take at most 2^<paramref name="valueBits"/> − 1 distinct
    /// values (after k-means sharing): the codebook is those values, sorted; each non-zero is stored as its index.</summary>
    public static BloomierTensor Encode(float[] dense, int valueBits, uint seed, double cellsPerKey = 1.25)
    {
        var codebook = dense.Where(v => v != 0).Distinct().Order().ToArray();
        if (codebook.Length >= 1 << valueBits)
            throw new ArgumentException(
                $"The tensor's non-zeros take {codebook.Length} distinct values; {valueBits}-bit cells hold at most {(1 << valueBits) - 1} " +
                "(one code must mean zero): share the weights (quantize, method kmeans) with fewer clusters or raise the bits.");
        var keys = new List<long>();
        var values = new List<int>();
        for (long p = 0; p < dense.Length; p++)
            if (dense[p] != 0)
            {
                keys.Add(p);
                values.Add(Array.BinarySearch(codebook, dense[p]));
            }
        if (codebook.Length == 0) codebook = [0f]; // an all-zero tensor: K ≥ 1 in the format; its "false positives" are zeros
        return new BloomierTensor(BloomierFilter.Build(keys, values, valueBits, seed, cellsPerKey), codebook);
    }
}
