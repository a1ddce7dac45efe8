namespace Distill.Compression.Artifact;

/// <summary>
/// Canonical Huffman codes (as in DEFLATE): only the code length of each symbol is stored; codes are assigned in
/// order of (length, symbol), each the previous code plus one, shifted left when the length grows. Lengths come from
/// the classic Huffman merge of the two least frequent nodes (ties broken by the smallest symbol in the node, so the
/// result is deterministic). A stream with a single distinct symbol gets a 1-bit code. Deep Compression (Han et al.
/// 2016) Huffman-codes the quantized weight codes and the sparse index gaps, saving 20–30 % more.
/// </summary>
public static class CanonicalHuffman
{
    /// <summary>Code length per symbol (0 for symbols that never occur).</summary>
    public static int[] CodeLengths(IReadOnlyList<long> frequencies)
    {
        int n = frequencies.Count;
        var lengths = new int[n];
        var used = Enumerable.Range(0, n).Where(i => frequencies[i] > 0).ToList();
        if (used.Count == 0) return lengths;
        if (used.Count == 1)
        {
            lengths[used[0]] = 1;
            return lengths;
        }
        // Nodes: (weight, smallest symbol, members). A sorted set acts as the priority queue.
        var queue = new SortedSet<(long Weight, int MinSymbol, int Id)>();
        var members = new List<List<int>>();
        foreach (int s in used)
        {
            queue.Add((frequencies[s], s, members.Count));
            members.Add([s]);
        }
        while (queue.Count > 1)
        {
            var a = queue.Min; queue.Remove(a);
            var b = queue.Min; queue.Remove(b);
            var merged = new List<int>(members[a.Id].Count + members[b.Id].Count);
            merged.AddRange(members[a.Id]);
            merged.AddRange(members[b.Id]);
            foreach (int s in merged) lengths[s]++;
            queue.Add((a.Weight + b.Weight, Math.Min(a.MinSymbol, b.MinSymbol), members.Count));
            members.Add(merged);
        }
        if (lengths.Max() > 56) throw new InvalidOperationException("Huffman code longer than 56 bits; the stream is too skewed to code.");
        return lengths;
    }

    /// <summary>The canonical code of each symbol for the given lengths.</summary>
    public static ulong[] Codes(IReadOnlyList<int> lengths)
    {
        var codes = new ulong[lengths.Count];
        ulong code = 0;
        int previous = 0;
        foreach (int s in Enumerable.Range(0, lengths.Count).Where(i => lengths[i] > 0).OrderBy(i => lengths[i]).ThenBy(i => i))
        {
            code <<= lengths[s] - previous;
            previous = lengths[s];
            codes[s] = code++;
        }
        return codes;
    }

    /// <summary>Total bits of a stream with these symbol frequencies under these lengths.</summary>
    public static long EncodedBits(IReadOnlyList<long> frequencies, IReadOnlyList<int> lengths)
    {
        long bits = 0;
        for (int i = 0; i < frequencies.Count; i++) bits += frequencies[i] * lengths[i];
        return bits;
    }

    /// <summary>Decodes one symbol at a time from a <see cref="BitReader"/> (canonical decoding, one length at a time).</summary>
    internal sealed class Decoder
    {
        private readonly int _maxLength;
        private readonly long[] _firstCode;   // first code of each length
        private readonly int[] _firstIndex;   // index in _symbols of that first code
        private readonly int[] _count;        // codes of each length
        private readonly int[] _symbols;      // symbols in canonical order

        public Decoder(IReadOnlyList<int> lengths, string what)
        {
            _maxLength = lengths.Count == 0 ? 0 : lengths.Max();
            if (_maxLength == 0) throw new InvalidDataException($"{what}: the Huffman table has no symbols.");
            _symbols = Enumerable.Range(0, lengths.Count).Where(i => lengths[i] > 0).OrderBy(i => lengths[i]).ThenBy(i => i).ToArray();
            _count = new int[_maxLength + 1];
            foreach (int s in _symbols) _count[lengths[s]]++;
            _firstCode = new long[_maxLength + 1];
            _firstIndex = new int[_maxLength + 1];
            long code = 0;
            int index = 0;
            for (int len = 1; len <= _maxLength; len++)
            {
                code <<= 1;
                _firstCode[len] = code;
                _firstIndex[len] = index;
                code += _count[len];
                index += _count[len];
                if (code > 1L << len) throw new InvalidDataException($"{what}: the Huffman code lengths are over-subscribed (not a prefix code).");
            }
        }

        public int Next(BitReader reader)
        {
            long code = 0;
            for (int len = 1; len <= _maxLength; len++)
            {
                code = (code << 1) | reader.ReadBit();
                long offset = code - _firstCode[len];
                if (offset < _count[len]) return _symbols[_firstIndex[len] + (int)offset];
            }
            throw new InvalidDataException("Invalid Huffman code in the stream.");
        }
    }
}
