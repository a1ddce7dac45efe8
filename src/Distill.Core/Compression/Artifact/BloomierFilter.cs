namespace Distill.Compression.Artifact;

/// <summary>
/// A Bloomier filter (Chazelle et al. 2004) as Weightless uses it (Reagen et al., ICML 2018): a table of
/// <see cref="Cells"/> cells of <see cref="ValueBits"/> bits from which the t-bit value of a stored key is recovered as
/// the XOR of the <see cref="Hashes"/> cells its hashes select and its hashed mask (<see cref="BloomierHash"/>). Keys
/// are never stored: any other key reads as a pseudo-random t-bit value. Built by hypergraph peeling: each key is an
/// edge over its k cells; repeatedly remove a cell that only one remaining edge touches, then assign the edges in
/// reverse order, each through its free cell. With k = 3 peeling succeeds with high probability when cells ≥ ~1.23 ×
/// keys; a failure retries with the next seed (and, every 16 failures, 5 % more cells).
/// </summary>
public sealed class BloomierFilter
{
    /// <summary>Hash functions per key (the format stores the number; this implementation builds and reads 3).</summary>
    public const int DefaultHashes = 3;

    /// <param name="table">Cell values, each below 2^<paramref name="valueBits"/>.</param>
    public BloomierFilter(int valueBits, int hashes, uint seed, int[] table)
    {
        if (valueBits is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(valueBits), valueBits, "1..16 bits per cell");
        if (hashes != DefaultHashes) throw new ArgumentOutOfRangeException(nameof(hashes), hashes, $"only {DefaultHashes} hash functions are implemented");
        if (table.Length < hashes || table.Length % hashes != 0)
            throw new ArgumentException($"A Bloomier table needs a positive multiple of {hashes} cells, got {table.Length}.", nameof(table));
        foreach (int c in table)
            if (c < 0 || c >> valueBits != 0) throw new ArgumentException($"Cell value {c} does not fit {valueBits} bits.", nameof(table));
        (ValueBits, Hashes, Seed, Table) = (valueBits, hashes, seed, table);
    }

    public int ValueBits { get; }
    public int Hashes { get; }

    /// <summary>The seed the construction succeeded with (the requested seed plus the failed attempts).</summary>
    public uint Seed { get; }
    public int[] Table { get; }
    public int Cells => Table.Length;

    /// <summary>Construction attempts it took (1 when the first seed peeled); not stored in the artifact.</summary>
    public int Attempts { get; private init; } = 1;

    /// <summary>The t-bit value of <paramref name="key"/>: its stored value if it was stored, else a pseudo-random code.</summary>
    public int Query(long key)
    {
        ulong h = BloomierHash.Base(Seed, key);
        int segment = Table.Length / Hashes;
        int v = BloomierHash.Mask(h, Hashes, ValueBits);
        for (int j = 0; j < Hashes; j++) v ^= Table[BloomierHash.Cell(h, j, segment)];
        return v;
    }

    /// <summary>Cells for <paramref name="keys"/> keys at <paramref name="cellsPerKey"/>: the next multiple of 3 (at least 3).</summary>
    public static int CellsFor(long keys, double cellsPerKey) =>
        (int)Math.Max(DefaultHashes, DefaultHashes * (long)Math.Ceiling(keys * cellsPerKey / DefaultHashes));

    /// <summary>Builds the filter that maps every <paramref name="keys"/>[i] to <paramref name="values"/>[i].</summary>
    /// <param name="keys">Distinct non-negative keys (flat tensor positions).</param>
    /// <param name="values">Values below 2^<paramref name="valueBits"/>.</param>
    public static BloomierFilter Build(IReadOnlyList<long> keys, IReadOnlyList<int> values, int valueBits, uint seed,
        double cellsPerKey = 1.25, int maxAttempts = 64)
    {
        if (keys.Count != values.Count) throw new ArgumentException($"{keys.Count} keys but {values.Count} values.");
        if (valueBits is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(valueBits), valueBits, "1..16 bits per cell");
        if (!(cellsPerKey >= 1.0)) throw new ArgumentOutOfRangeException(nameof(cellsPerKey), cellsPerKey, "at least 1 cell per key");
        foreach (int v in values)
            if (v < 0 || v >> valueBits != 0) throw new ArgumentException($"Value {v} does not fit {valueBits} bits.", nameof(values));
        if (keys.Distinct().Count() != keys.Count) throw new ArgumentException("Keys must be distinct.", nameof(keys));
        int cells0 = CellsFor(keys.Count, cellsPerKey);
        for (int attempt = 0; attempt < maxAttempts; attempt++)
        {
            int cells = CellsFor(keys.Count, cellsPerKey * Math.Pow(1.05, attempt / 16));
            uint s = unchecked(seed + (uint)attempt);
            if (TryBuild(keys, values, valueBits, s, cells) is { } table)
                return new BloomierFilter(valueBits, DefaultHashes, s, table) { Attempts = attempt + 1 };
        }
        throw new InvalidOperationException(
            $"The Bloomier filter of {keys.Count} keys did not peel in {maxAttempts} attempts from seed {seed} ({cells0} cells and more); raise cells_per_key.");
    }

    private static int[]? TryBuild(IReadOnlyList<long> keys, IReadOnlyList<int> values, int bits, uint seed, int cells)
    {
        const int k = DefaultHashes;
        int n = keys.Count, segment = cells / k;
        var edges = new int[n * k];
        var masks = new int[n];
        var degree = new int[cells];
        var xorEdges = new int[cells]; // XOR of the ids of the edges touching a cell: the last one left, once its degree is 1
        for (int e = 0; e < n; e++)
        {
            ulong h = BloomierHash.Base(seed, keys[e]);
            masks[e] = BloomierHash.Mask(h, k, bits);
            for (int j = 0; j < k; j++)
            {
                int c = BloomierHash.Cell(h, j, segment);
                edges[e * k + j] = c;
                degree[c]++;
                xorEdges[c] ^= e;
            }
        }
        var stack = new Stack<int>();
        for (int c = 0; c < cells; c++) if (degree[c] == 1) stack.Push(c);
        var order = new List<(int Edge, int Cell)>(n);
        while (stack.Count > 0)
        {
            int c = stack.Pop();
            if (degree[c] != 1) continue;
            int e = xorEdges[c];
            order.Add((e, c));
            for (int j = 0; j < k; j++)
            {
                int u = edges[e * k + j];
                degree[u]--;
                xorEdges[u] ^= e;
                if (degree[u] == 1) stack.Push(u);
            }
        }
        if (order.Count != n) return null;
        var table = new int[cells];
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var (e, free) = order[i];
            int v = values[e] ^ masks[e];
            for (int j = 0; j < k; j++)
            {
                int u = edges[e * k + j];
                if (u != free) v ^= table[u];
            }
            table[free] = v;
        }
        return table;
    }
}
