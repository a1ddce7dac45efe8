using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Distill.Compression.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Artifact;

/// <summary>
/// Writes the Distill compressed-model artifact (<c>docs/artifact-format.md</c>). <see cref="Plan"/> chooses, per
/// tensor, the smallest of the encodings the options allow — position encoding (all / relative indices with the best
/// index width / N:M offsets / N:M combination indices), value encoding (float32 or float16, codebook when the stored
/// values take few distinct values, linear codes on a given grid, whose per-channel scales are themselves stored as a
/// codebook when they repeat) and Huffman or fixed-width code streams — and computes the record's exact size from
/// counts alone. Per-file overhead is kept small for small models: tensor names are front-coded against the previous
/// name and the config JSON is DEFLATE-compressed when that is smaller. <see cref="Write"/> then writes exactly that
/// many bytes. Codebook and relative-index encodings are lossless: the artifact decodes to the very tensors it was given.
/// </summary>
public static class ArtifactEncoder
{
    public static ReadOnlySpan<byte> Magic => "DCMP"u8;

    /// <summary>Format version written. Version 2 added front-coded names, the config encoding byte, N:M combination
    /// positions and scale codebooks; version 3 added exponent-coded scales (flag bit 4), AFFINE values, the header's
    /// record layout (records without names and shapes) and Huffman tables of 4-bit lengths; version 4 added BLOOMIER
    /// values (Weightless). A file is written at the lowest version that holds its records: version 4 only when it has a
    /// BLOOMIER record, so every other artifact stays readable by version-3 readers. The reader reads versions 1 to 4.</summary>
    public const byte Version = 4;

    /// <summary>The version of a file without BLOOMIER records.</summary>
    public const byte VersionWithoutBloomier = 3;

    /// <summary>Config encodings of the header: the UTF-8 JSON as is, or raw DEFLATE (RFC 1951) of it.</summary>
    public const byte ConfigRaw = 0, ConfigDeflate = 1;

    /// <summary>Record layouts (version 3 header): every record named and shaped, or neither (the model's state dict in order).</summary>
    public const byte LayoutNamed = 0, LayoutImplicit = 1;

    /// <summary>Flag bits of a tensor record.</summary>
    public const int FlagValueHuffman = 1, FlagPositionHuffman = 2, FlagScaleCodebook = 4, FlagScaleHuffman = 8, FlagScaleExponent = 16;

    /// <summary>Block sizes M tried for N:M position encoding.</summary>
    private static readonly int[] NmBlocks = [2, 4, 8, 16, 32];

    public static ArtifactPlan Plan(string family, string configJson, IEnumerable<(string Name, Tensor Tensor)> tensors, ArtifactOptions options,
        IReadOnlyList<ActivationRange>? activations = null)
    {
        activations ??= [];
        var plans = new List<TensorPlan>();
        string? previous = null;
        foreach (var (name, tensor) in tensors)
        {
            plans.Add(PlanTensor(name, tensor, options, previous));
            previous = name;
        }
        uint layoutHash = options.TensorNames ? 0 : HashLayout(plans.Select(p => (p.Name, p.Shape)));
        var dup = plans.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"Tensor '{dup.Key}' is given twice.");
        foreach (var a in activations)
            if (a.Bits is < 2 or > 8) throw new ArgumentException($"Activation range of '{a.Module}' has {a.Bits} bits; 2..8 are supported.");
        var (configEncoding, configPayload) = EncodeConfig(configJson);
        long header = Magic.Length + 1 + StringSize(family) + 1 + Varint.Size((ulong)configPayload.Length) + configPayload.Length
                      + Varint.Size((ulong)activations.Count) + activations.Sum(a => StringSize(a.Module) + 9)
                      + Varint.Size((ulong)plans.Count) + 1 + (options.TensorNames ? 0 : 4);
        return new ArtifactPlan
        {
            Version = plans.Any(p => p.Values == ValueKind.Bloomier) ? Version : VersionWithoutBloomier,
            ImplicitLayout = !options.TensorNames, LayoutHash = layoutHash,
            Family = family, ConfigJson = configJson, Activations = activations, Tensors = plans, HeaderBytes = header,
            ConfigEncoding = configEncoding, ConfigPayload = configPayload,
        };
    }

    /// <summary>The config as written: raw DEFLATE of its UTF-8 bytes when that is shorter, else the bytes themselves.</summary>
    private static (byte Encoding, byte[] Payload) EncodeConfig(string configJson)
    {
        var raw = Encoding.UTF8.GetBytes(configJson);
        using var buffer = new MemoryStream();
        using (var deflate = new DeflateStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true)) deflate.Write(raw);
        var packed = buffer.ToArray();
        return packed.Length < raw.Length ? (ConfigDeflate, packed) : (ConfigRaw, raw);
    }

    /// <summary>FNV-1a (32 bit) of the UTF-8 text "name:d0,d1,…\n" of every tensor in order: the layout-1 header's check
    /// that the model the reader builds has the writer's tensors, names and shapes, in the same order.</summary>
    public static uint HashLayout(IEnumerable<(string Name, long[] Shape)> layout)
    {
        uint hash = 2166136261;
        foreach (var (name, shape) in layout)
            foreach (byte b in Encoding.UTF8.GetBytes($"{name}:{string.Join(",", shape)}\n"))
                hash = (hash ^ b) * 16777619;
        return hash;
    }

    /// <summary>Bytes of <paramref name="name"/> shared with <paramref name="previous"/> (UTF-8, from the start).</summary>
    public static int SharedPrefix(string? previous, string name)
    {
        if (previous is null) return 0;
        var a = Encoding.UTF8.GetBytes(previous);
        var b = Encoding.UTF8.GetBytes(name);
        int n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n]) n++;
        return n;
    }

    /// <summary>Writes <paramref name="plan"/> to <paramref name="path"/> (through a temporary file); returns the bytes written.</summary>
    public static long Write(ArtifactPlan plan, string path)
    {
        string tmp = path + ".tmp";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        long length;
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        using (var bs = new BufferedStream(fs, 1 << 16))
        {
            bs.Write(Magic);
            bs.WriteByte(plan.Version);
            WriteString(bs, plan.Family);
            bs.WriteByte(plan.ConfigEncoding);
            Varint.Write(bs, (ulong)plan.ConfigPayload.Length);
            bs.Write(plan.ConfigPayload);
            Varint.Write(bs, (ulong)plan.Activations.Count);
            foreach (var a in plan.Activations)
            {
                WriteString(bs, a.Module);
                bs.WriteByte((byte)a.Bits);
                WriteSingle(bs, a.Min);
                WriteSingle(bs, a.Max);
            }
            Varint.Write(bs, (ulong)plan.Tensors.Count);
            bs.WriteByte(plan.ImplicitLayout ? LayoutImplicit : LayoutNamed);
            if (plan.ImplicitLayout)
            {
                Span<byte> h = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(h, plan.LayoutHash);
                bs.Write(h);
            }
            string? previous = null;
            foreach (var t in plan.Tensors)
            {
                WriteTensor(bs, t, previous, plan.ImplicitLayout);
                previous = t.Name;
            }
            bs.Flush();
            length = fs.Length;
        }
        File.Move(tmp, path, overwrite: true);
        return length;
    }

    /// <summary>Chooses the smallest encoding of one tensor; <paramref name="previous"/> is the name of the record before it
    /// (its name is front-coded against that one).</summary>
    public static TensorPlan PlanTensor(string name, Tensor tensor, ArtifactOptions options, string? previous = null)
    {
        long[] shape = tensor.shape.ToArray();
        long nameBytes = options.TensorNames ? NameBytes(previous, name) : 0;
        long recordHeader = options.TensorNames ? RecordHeaderBytes(shape) : 3;
        if (tensor.dtype == ScalarType.Int64)
        {
            var longs = tensor.detach().cpu().contiguous().data<long>().ToArray();
            return new TensorPlan
            {
                Name = name, Shape = shape, Values = ValueKind.I64, Positions = PositionKind.All, StoredCount = longs.Length,
                Nonzeros = longs.Count(v => v != 0), RawLongs = longs, NameBytes = nameBytes,
                PredictedBytes = nameBytes + recordHeader + 8L * longs.Length,
            };
        }
        if (tensor.dtype is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new NotSupportedException($"Tensor '{name}' has dtype {tensor.dtype}; the artifact stores float32/16, bfloat16 (as float32) and int64 tensors.");
        using var f32 = tensor.detach().cpu().to(ScalarType.Float32).contiguous();
        var data = f32.data<float>().ToArray();
        for (int i = 0; i < data.Length; i++)
            if (!float.IsFinite(data[i])) throw new ArgumentException($"Tensor '{name}' has a non-finite value at flat index {i}; it cannot be encoded.");
        long nnz = data.Count(v => v != 0);
        long rowLen = shape.Length >= 2 && shape[0] > 0 ? data.Length / shape[0] : data.Length;

        TensorPlan? best = null;
        foreach (var positions in PositionCandidates(data, shape, nnz, options))
            foreach (var plan in ValueCandidates(name, nameBytes, recordHeader, shape, data, nnz, rowLen, positions, options))
                if (best is null || plan.PredictedBytes < best.PredictedBytes) best = plan;
        if (options.Bloomier.TryGetValue(name, out var bloomier))
        {
            var plan = BloomierCandidate(name, shape, data, nnz, nameBytes, recordHeader, bloomier);
            if (plan.PredictedBytes < best!.PredictedBytes) best = plan;
        }
        return best!;
    }

    /// <summary>The BLOOMIER record of a tensor given its table: u8 t, u8 hashes, varint seed, varint cells, varint K,
    /// K × f32, then cells × t bits. The table must decode to the tensor exactly (false positives included: the model
    /// holds what the table decodes to), else the tensor changed after it was encoded and the table no longer fits.</summary>
    private static TensorPlan BloomierCandidate(string name, long[] shape, float[] data, long nnz, long nameBytes, long recordHeader, BloomierTensor b)
    {
        var decoded = b.Decode(data.Length);
        for (long i = 0; i < data.Length; i++)
            if (decoded[i] != data[i])
                throw new ArgumentException(
                    $"Tensor '{name}' does not decode from its Bloomier table (flat index {i}: table {decoded[i]}, tensor {data[i]}); " +
                    "the weight changed after the weightless stage encoded it.");
        var f = b.Filter;
        if (b.Codebook.Length is 0 || b.Codebook.Length >= 1 << f.ValueBits)
            throw new ArgumentException($"Tensor '{name}': a Bloomier codebook of {b.Codebook.Length} values does not fit {f.ValueBits}-bit cells (1 .. 2^t − 1).");
        return new TensorPlan
        {
            Name = name, Shape = shape, Values = ValueKind.Bloomier, Positions = PositionKind.All, StoredCount = data.Length, Nonzeros = nnz,
            Bits = f.ValueBits, Codebook = b.Codebook, Bloomier = b, NameBytes = nameBytes,
            PredictedBytes = nameBytes + recordHeader + BloomierBytes(b),
        };
    }

    /// <summary>Bytes of a BLOOMIER record's params, codebook and cells (the record without name, shape, kinds and flags).</summary>
    public static long BloomierBytes(BloomierTensor b) =>
        2 + Varint.Size(b.Filter.Seed) + Varint.Size((ulong)b.Filter.Cells) + Varint.Size((ulong)b.Codebook.Length) + 4L * b.Codebook.Length
        + CeilBytes((long)b.Filter.Cells * b.Filter.ValueBits);

    /// <summary>ceil(log2 m): bits of an offset inside a block of m.</summary>
    public static int OffsetBits(int m) => m <= 1 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(m - 1));

    // ---- positions ----

    private sealed record Positions(PositionKind Kind, long[]? Stored, int[]? Codes, int Width, long Entries, int N, int M,
        int[]? Huffman, long ParamBytes, long StreamBytes);

    private static IEnumerable<Positions> PositionCandidates(float[] data, long[] shape, long nnz, ArtifactOptions options)
    {
        yield return new Positions(PositionKind.All, null, null, 0, 0, 0, 0, null, 0, 0);
        if (!options.Sparse || nnz == data.Length) yield break;

        var stored = new long[nnz];
        for (long i = 0, j = 0; i < data.Length; i++) if (data[i] != 0) stored[j++] = i;
        yield return Relative(stored, options);

        if (shape.Length < 2 || shape[0] == 0) yield break;
        long rowLen = data.Length / shape[0];
        foreach (int m in NmBlocks)
        {
            if (rowLen % m != 0) continue;
            int maxInGroup = 0;
            for (long g = 0; g < data.Length; g += m)
            {
                int c = 0;
                for (int k = 0; k < m; k++) if (data[g + k] != 0) c++;
                maxInGroup = Math.Max(maxInGroup, c);
            }
            int n = Math.Max(1, maxInGroup);
            if (n >= m) continue;
            yield return NmPositions(data, n, m, options);
            if (n > 1) yield return NmCombinationPositions(data, n, m, options);
        }
    }

    private static Positions Relative(long[] stored, ArtifactOptions options)
    {
        var gaps = new Dictionary<long, long>();
        long previous = -1;
        foreach (long p in stored)
        {
            long d = p - previous;
            gaps[d] = gaps.GetValueOrDefault(d) + 1;
            previous = p;
        }
        int bestWidth = 0;
        long bestBytes = long.MaxValue, bestEntries = 0;
        int[]? bestHuffman = null;
        for (int width = 1; width <= 16; width++)
        {
            long span = (1L << width) - 1;
            long entries = 0;
            foreach (var (d, count) in gaps) entries += count * (1 + (d - 1) / span);
            long bytes = Varint.Size((ulong)entries) + Varint.Size((ulong)stored.Length) + 1 + CeilBytes(entries * width);
            int[]? huffman = null;
            if (options.Huffman && width <= 8)
            {
                var freq = new long[1 << width];
                foreach (var (d, count) in gaps)
                {
                    freq[0] += count * ((d - 1) / span);
                    freq[(d - 1) % span + 1] += count;
                }
                var lengths = CanonicalHuffman.CodeLengths(freq);
                long coded = Varint.Size((ulong)entries) + Varint.Size((ulong)stored.Length) + 1 + HuffmanStreamBytes(freq, lengths);
                if (coded < bytes && lengths.Max() <= MaxHuffmanLength) (bytes, huffman) = (coded, lengths);
            }
            if (bytes < bestBytes) (bestBytes, bestWidth, bestEntries, bestHuffman) = (bytes, width, entries, huffman);
        }
        var codes = new int[bestEntries];
        long spanBest = (1L << bestWidth) - 1, prev = -1;
        int e = 0;
        foreach (long p in stored)
        {
            long d = p - prev;
            for (long s = (d - 1) / spanBest; s > 0; s--) codes[e++] = 0;
            codes[e++] = (int)((d - 1) % spanBest + 1);
            prev = p;
        }
        long paramBytes = 1 + Varint.Size((ulong)bestEntries) + Varint.Size((ulong)stored.Length);
        return new Positions(PositionKind.Relative, stored, codes, bestWidth, bestEntries, 0, 0, bestHuffman, paramBytes, bestBytes - paramBytes);
    }

    /// <summary>The N offsets (ascending) stored in each group of M: its non-zeros, then its smallest free offsets.</summary>
    private static long[] NmStored(float[] data, int n, int m)
    {
        long groups = data.Length / m;
        var stored = new long[groups * n];
        var chosen = new List<int>(m);
        long j = 0;
        for (long g = 0; g < groups; g++)
        {
            chosen.Clear();
            long start = g * m;
            for (int k = 0; k < m; k++) if (data[start + k] != 0) chosen.Add(k);
            for (int k = 0; chosen.Count < n; k++) if (data[start + k] == 0 && !chosen.Contains(k)) chosen.Add(k);
            chosen.Sort();
            foreach (int k in chosen) stored[j++] = start + k;
        }
        return stored;
    }

    private static Positions NmPositions(float[] data, int n, int m, ArtifactOptions options)
    {
        var stored = NmStored(data, n, m);
        var codes = new int[stored.Length];
        for (long i = 0; i < stored.Length; i++) codes[i] = (int)(stored[i] % m);
        int width = OffsetBits(m);
        var (bytes, huffman) = CodeStream(codes, width, options);
        return new Positions(PositionKind.NM, stored, codes, width, codes.Length, n, m, huffman, 2, bytes);
    }

    /// <summary>N:M positions as one code per group: the rank of the group's offset set among all C(M, N) sets
    /// (<see cref="NmCombination"/>), ceil(log2 C(M, N)) bits instead of N · ceil(log2 M) — 3 instead of 4 bits per
    /// group for 2:4, the information content being log2 6 ≈ 2.58.</summary>
    private static Positions NmCombinationPositions(float[] data, int n, int m, ArtifactOptions options)
    {
        var stored = NmStored(data, n, m);
        long groups = stored.Length / n;
        var codes = new int[groups];
        var offsets = new int[n];
        for (long g = 0; g < groups; g++)
        {
            for (int i = 0; i < n; i++) offsets[i] = (int)(stored[g * n + i] - g * m);
            codes[g] = (int)NmCombination.Rank(offsets, m);
        }
        int width = NmCombination.CodeBits(n, m);
        var (bytes, huffman) = CodeStream(codes, width, options);
        return new Positions(PositionKind.NMCombination, stored, codes, width, groups, n, m, huffman, 2, bytes);
    }

    // ---- values ----

    /// <param name="recordHeader">Bytes of rank, dims (when written), kinds and flags.</param>
    private static IEnumerable<TensorPlan> ValueCandidates(string name, long nameBytes, long recordHeader, long[] shape, float[] data, long nnz, long rowLen,
        Positions pos, ArtifactOptions options)
    {
        long count = pos.Stored?.LongLength ?? data.LongLength;
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = data[pos.Stored is null ? i : pos.Stored[i]];
        long fixedBytes = nameBytes + recordHeader + pos.ParamBytes + pos.StreamBytes;

        TensorPlan Make(ValueKind kind, long valueBytes, int bits = 0, float[]? codebook = null, LinearQuantParams? linear = null,
            int[]? codes = null, int[]? huffman = null, float[]? raw = null, double error = 0, ScaleTable? scales = null,
            (float Offset, float Step)? affine = null) => new()
        {
            Name = name, Shape = shape, Values = kind, Positions = pos.Kind, StoredCount = count, Nonzeros = nnz,
            Bits = bits, Codebook = codebook, Linear = linear, IndexBits = pos.Kind == PositionKind.Relative ? pos.Width : 0,
            IndexEntries = pos.Entries, N = pos.N, M = pos.M, ValueHuffman = huffman, PositionHuffman = pos.Huffman,
            PredictedBytes = fixedBytes + valueBytes, MaxAbsError = error, RawFloats = raw, ValueCodes = codes, PositionCodes = pos.Codes,
            NameBytes = nameBytes, PositionBits = pos.Width, ScaleCodebook = scales?.Codebook, ScaleBits = scales?.Bits ?? 0,
            ScaleCodes = scales?.Codes, ScaleHuffman = scales?.Huffman, ScaleSteps = scales?.Steps ?? 0, ScaleExponentBase = scales?.Base ?? 0,
            AffineOffset = affine?.Offset ?? 0, AffineStep = affine?.Step ?? 0,
        };

        if (options.Float16)
        {
            double err = 0;
            var halves = new float[count];
            for (long i = 0; i < count; i++)
            {
                halves[i] = (float)(Half)values[i];
                err = Math.Max(err, Math.Abs(halves[i] - values[i]));
            }
            yield return Make(ValueKind.F16, 2 * count, raw: halves, error: err);
        }
        else yield return Make(ValueKind.F32, 4 * count, raw: values);

        if (options.Codebooks)
        {
            var distinct = new SortedSet<float>();
            foreach (float v in values)
            {
                distinct.Add(v == 0 ? 0f : v);
                if (distinct.Count > options.MaxCodebookSize) break;
            }
            if (distinct.Count <= options.MaxCodebookSize)
            {
                var book = distinct.ToArray();
                int bits = Math.Max(1, OffsetBits(book.Length));
                var codes = new int[count];
                for (long i = 0; i < count; i++) codes[i] = Array.BinarySearch(book, values[i] == 0 ? 0f : values[i]);
                var (streamBytes, huffman) = CodeStream(codes, bits, options);
                long paramBytes = 1 + Varint.Size((ulong)book.Length) + 4L * book.Length;
                yield return Make(ValueKind.Codebook, paramBytes + streamBytes, bits, codebook: book, codes: codes, huffman: huffman);
            }
        }

        if (options.Linear.TryGetValue(name, out var q))
        {
            int channels = q.PerChannel ? (int)shape[0] : 1;
            if (q.Scales.Length != channels || q.ZeroPoints.Length != channels)
                throw new ArgumentException($"Linear grid of '{name}' has {q.Scales.Length} scales and {q.ZeroPoints.Length} zero points; the tensor needs {channels}.");
            var codes = new int[count];
            double err = 0;
            for (long i = 0; i < count; i++)
            {
                long flat = pos.Stored is null ? i : pos.Stored[i];
                int c = q.PerChannel ? (int)(flat / rowLen) : 0;
                codes[i] = q.Quantize(values[i], c);
                err = Math.Max(err, Math.Abs(q.Dequantize(codes[i], c) - values[i]));
            }
            var (streamBytes, huffman) = CodeStream(codes, q.Bits, options);
            var scales = Smaller(ScaleCodebook(q.Scales, options), ScaleExponents(q.Scales, options));
            long scaleBytes = scales?.Bytes ?? 4L * channels;
            long paramBytes = 3 + scaleBytes + (q.Symmetric ? 0 : q.ZeroPoints.Sum(z => (long)Varint.Size((ulong)z)));
            yield return Make(ValueKind.Linear, paramBytes + streamBytes, q.Bits, linear: q, codes: codes, huffman: huffman, error: err, scales: scales);
        }
        else if (options.FloatBits is int floatBits && count > 0)
        {
            if (floatBits is < 2 or > 16) throw new ArgumentOutOfRangeException(nameof(options), floatBits, "float_bits is 2..16");
            var (offset, step) = AffineGrid(values, floatBits);
            var codes = new int[count];
            double err = 0;
            for (long i = 0; i < count; i++)
            {
                codes[i] = AffineCode(values[i], offset, step, floatBits);
                err = Math.Max(err, Math.Abs(AffineValue(codes[i], offset, step) - values[i]));
            }
            var (streamBytes, huffman) = CodeStream(codes, floatBits, options);
            yield return Make(ValueKind.Affine, 9 + streamBytes, floatBits, codes: codes, huffman: huffman, error: err, affine: (offset, step));
        }
    }

    /// <summary>The affine grid of <paramref name="bits"/> bits spanning [min, max] of <paramref name="values"/>: offset = min,
    /// step = (max − min) / (2^bits − 1) in float32 (0 when all values are equal).</summary>
    public static (float Offset, float Step) AffineGrid(float[] values, int bits)
    {
        float lo = values.Min(), hi = values.Max();
        return (lo, (hi - lo) / ((1 << bits) - 1));
    }

    /// <summary>The nearest code of <paramref name="value"/> on an affine grid, clamped to 0 … 2^bits − 1.</summary>
    public static int AffineCode(float value, float offset, float step, int bits) =>
        step > 0 ? Math.Clamp((int)MathF.Round((value - offset) / step, MidpointRounding.ToEven), 0, (1 << bits) - 1) : 0;

    /// <summary>The value of <paramref name="code"/>: offset + step · code in float32 (the reader's exact expression).</summary>
    public static float AffineValue(int code, float offset, float step) => offset + step * code;

    /// <summary>A LINEAR record's scales: a codebook of the distinct values plus one code per channel, or (Codebook null)
    /// exponents: channel c's scale is 2^((Base + code[c]) / Steps).</summary>
    internal sealed record ScaleTable(float[]? Codebook, int Bits, int[] Codes, int[]? Huffman, long Bytes, int Steps = 0, int Base = 0);

    private static ScaleTable? Smaller(ScaleTable? a, ScaleTable? b) => a is null ? b : b is null || a.Bytes <= b.Bytes ? a : b;

    /// <summary>The scales as exponents (u8 steps, zigzag varint base, u8 width, code stream of k − base) when every scale
    /// is exactly float32(2^(k/16)) for an integer k — as the quantizer's compact scales are — and that is smaller than
    /// one float32 per channel; else null. A channel's scale then costs a few bits and the codebook's float32 entries go:
    /// for a 32 × 32 matrix with 15 distinct scales that is ~25 bytes instead of ~80.</summary>
    private static ScaleTable? ScaleExponents(float[] scales, ArtifactOptions options)
    {
        if (!options.Codebooks || scales.Length < 2) return null;
        const int steps = QuantScheme.ScaleStepsPerOctave;
        var k = new int[scales.Length];
        for (int i = 0; i < scales.Length; i++)
        {
            if (!(scales[i] > 0) || !float.IsFinite(scales[i])) return null;
            double e = Math.Round(Math.Log2(scales[i]) * steps);
            if (Math.Abs(e) > 1 << 20 || QuantScheme.ExponentScale((int)e, steps) != scales[i]) return null;
            k[i] = (int)e;
        }
        int min = k.Min(), range = k.Max() - min;
        int bits = Math.Max(1, OffsetBits(range + 1));
        if (bits > 8) return null;
        var codes = k.Select(e => e - min).ToArray();
        var (streamBytes, huffman) = CodeStream(codes, bits, options);
        long bytes = 1 + Varint.Size(ZigZag(min)) + 1 + streamBytes;
        return bytes < 4L * scales.Length ? new ScaleTable(null, bits, codes, huffman, bytes, steps, min) : null;
    }

    /// <summary>Zigzag mapping of a signed integer to an unsigned one (0, −1, 1, −2 … → 0, 1, 2, 3 …) for varints.</summary>
    public static ulong ZigZag(int v) => (ulong)(uint)((v << 1) ^ (v >> 31));

    /// <summary>The scales as a codebook (u8 bits, varint K, K × f32, code stream) when they take at most 256 distinct
    /// values and that is smaller than one float32 per channel; else null. Quantizers with compact scales (rounded to
    /// a 2^(1/16) grid) make per-channel scales repeat, so a scale then costs a few bits instead of 32.</summary>
    private static ScaleTable? ScaleCodebook(float[] scales, ArtifactOptions options)
    {
        if (!options.Codebooks || scales.Length < 2) return null;
        var distinct = new SortedSet<float>();
        foreach (float s in scales)
        {
            distinct.Add(s);
            if (distinct.Count > options.MaxCodebookSize) return null;
        }
        var book = distinct.ToArray();
        int bits = Math.Max(1, OffsetBits(book.Length));
        var codes = new int[scales.Length];
        for (int i = 0; i < scales.Length; i++) codes[i] = Array.BinarySearch(book, scales[i]);
        var (streamBytes, huffman) = CodeStream(codes, bits, options);
        long bytes = 1 + Varint.Size((ulong)book.Length) + 4L * book.Length + streamBytes;
        return bytes < 4L * scales.Length ? new ScaleTable(book, bits, codes, huffman, bytes) : null;
    }

    private static (long Bytes, int[]? Huffman) CodeStream(int[] codes, int bits, ArtifactOptions options)
    {
        long bytes = CeilBytes(codes.LongLength * bits);
        if (!options.Huffman || bits > 8) return (bytes, null);
        var freq = Histogram(codes, 1 << bits);
        var lengths = CanonicalHuffman.CodeLengths(freq);
        long coded = HuffmanStreamBytes(freq, lengths);
        return coded < bytes && lengths.Max() <= MaxHuffmanLength ? (coded, lengths) : (bytes, null);
    }

    // ---- sizes ----

    private static long[] Histogram(int[] codes, int alphabet)
    {
        var freq = new long[alphabet];
        foreach (int c in codes) freq[c]++;
        return freq;
    }

    /// <summary>Longest Huffman code a version-3 table can hold (a 4-bit length); streams needing longer codes are written
    /// at fixed width.</summary>
    public const int MaxHuffmanLength = 15;

    /// <summary>Table (a 4-bit length per symbol of the alphabet, two per byte) + varint byte count + the coded bytes.</summary>
    private static long HuffmanStreamBytes(long[] freq, int[] lengths)
    {
        long bytes = CeilBytes(CanonicalHuffman.EncodedBits(freq, lengths));
        return HuffmanTableBytes(freq.Length) + Varint.Size((ulong)bytes) + bytes;
    }

    /// <summary>Bytes of a version-3 code-length table: 4 bits per symbol, two symbols per byte (a byte per symbol in
    /// versions 1 and 2; for the 16 symbols of 4-bit codes 8 bytes instead of 16, which decides whether a 32 × 32
    /// matrix's codes are worth Huffman-coding at all).</summary>
    public static int HuffmanTableBytes(int alphabet) => (alphabet + 1) / 2;

    private static long CeilBytes(long bits) => (bits + 7) / 8;

    private static long StringSize(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        return Varint.Size((ulong)n) + n;
    }

    /// <summary>The front-coded name: varint shared-prefix length, varint suffix length, suffix bytes.</summary>
    private static long NameBytes(string? previous, string name)
    {
        int shared = SharedPrefix(previous, name);
        int suffix = Encoding.UTF8.GetByteCount(name) - shared;
        return Varint.Size((ulong)shared) + Varint.Size((ulong)suffix) + suffix;
    }

    /// <summary>Rank, dims, values_kind, positions_kind, flags.</summary>
    private static long RecordHeaderBytes(long[] shape) =>
        1 + shape.Sum(d => (long)Varint.Size((ulong)d)) + 3;

    // ---- writing ----

    private static void WriteString(Stream s, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Varint.Write(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void WriteTensor(Stream s, TensorPlan t, string? previous, bool implicitLayout)
    {
        if (!implicitLayout)
        {
            int shared = SharedPrefix(previous, t.Name);
            var nameBytes = Encoding.UTF8.GetBytes(t.Name);
            Varint.Write(s, (ulong)shared);
            Varint.Write(s, (ulong)(nameBytes.Length - shared));
            s.Write(nameBytes, shared, nameBytes.Length - shared);
            if (t.Shape.Length > 255) throw new NotSupportedException($"Tensor '{t.Name}' has rank {t.Shape.Length} (at most 255).");
            s.WriteByte((byte)t.Shape.Length);
            foreach (long d in t.Shape) Varint.Write(s, (ulong)d);
        }
        s.WriteByte((byte)t.Values);
        s.WriteByte((byte)t.Positions);
        s.WriteByte((byte)((t.ValueHuffman is not null ? FlagValueHuffman : 0) | (t.PositionHuffman is not null ? FlagPositionHuffman : 0)
                           | (t.ScaleCodebook is not null ? FlagScaleCodebook : 0) | (t.ScaleHuffman is not null ? FlagScaleHuffman : 0)
                           | (t.ScaleSteps > 0 ? FlagScaleExponent : 0)));

        switch (t.Values)
        {
            case ValueKind.Linear:
                var q = t.Linear!;
                s.WriteByte((byte)q.Bits);
                s.WriteByte((byte)(q.PerChannel ? 1 : 0));
                s.WriteByte((byte)(q.Symmetric ? 1 : 0));
                if (t.ScaleCodebook is { } book)
                {
                    s.WriteByte((byte)t.ScaleBits);
                    Varint.Write(s, (ulong)book.Length);
                    foreach (float scale in book) WriteSingle(s, scale);
                    WriteCodes(s, t.ScaleCodes!, t.ScaleBits, t.ScaleHuffman);
                }
                else if (t.ScaleSteps > 0)
                {
                    s.WriteByte((byte)t.ScaleSteps);
                    Varint.Write(s, ZigZag(t.ScaleExponentBase));
                    s.WriteByte((byte)t.ScaleBits);
                    WriteCodes(s, t.ScaleCodes!, t.ScaleBits, t.ScaleHuffman);
                }
                else foreach (float scale in q.Scales) WriteSingle(s, scale);
                if (!q.Symmetric) foreach (int z in q.ZeroPoints) Varint.Write(s, (ulong)z);
                break;
            case ValueKind.Codebook:
                s.WriteByte((byte)t.Bits);
                Varint.Write(s, (ulong)t.Codebook!.Length);
                foreach (float c in t.Codebook) WriteSingle(s, c);
                break;
            case ValueKind.Affine:
                s.WriteByte((byte)t.Bits);
                WriteSingle(s, t.AffineOffset);
                WriteSingle(s, t.AffineStep);
                break;
            case ValueKind.Bloomier:
                var f = t.Bloomier!.Filter;
                s.WriteByte((byte)f.ValueBits);
                s.WriteByte((byte)f.Hashes);
                Varint.Write(s, f.Seed);
                Varint.Write(s, (ulong)f.Cells);
                Varint.Write(s, (ulong)t.Bloomier.Codebook.Length);
                foreach (float c in t.Bloomier.Codebook) WriteSingle(s, c);
                break;
        }
        switch (t.Positions)
        {
            case PositionKind.Relative:
                s.WriteByte((byte)t.IndexBits);
                Varint.Write(s, (ulong)t.IndexEntries);
                Varint.Write(s, (ulong)t.StoredCount);
                break;
            case PositionKind.NM or PositionKind.NMCombination:
                s.WriteByte((byte)t.N);
                s.WriteByte((byte)t.M);
                break;
        }
        if (t.Positions != PositionKind.All) WriteCodes(s, t.PositionCodes!, t.PositionBits, t.PositionHuffman);

        switch (t.Values)
        {
            case ValueKind.F32:
                Span<byte> b4 = stackalloc byte[4];
                foreach (float v in t.RawFloats!) { BinaryPrimitives.WriteSingleLittleEndian(b4, v); s.Write(b4); }
                break;
            case ValueKind.F16:
                Span<byte> b2 = stackalloc byte[2];
                foreach (float v in t.RawFloats!) { BinaryPrimitives.WriteHalfLittleEndian(b2, (Half)v); s.Write(b2); }
                break;
            case ValueKind.I64:
                Span<byte> b8 = stackalloc byte[8];
                foreach (long v in t.RawLongs!) { BinaryPrimitives.WriteInt64LittleEndian(b8, v); s.Write(b8); }
                break;
            case ValueKind.Bloomier:
                WriteCodes(s, t.Bloomier!.Filter.Table, t.Bits, null);
                break;
            default:
                WriteCodes(s, t.ValueCodes!, t.Bits, t.ValueHuffman);
                break;
        }
    }

    private static void WriteCodes(Stream s, int[] codes, int width, int[]? huffman)
    {
        var writer = new BitWriter();
        if (huffman is null)
        {
            foreach (int c in codes) writer.Write((ulong)c, width);
            s.Write(writer.ToArray());
            return;
        }
        for (int i = 0; i < huffman.Length; i += 2)
            s.WriteByte((byte)(huffman[i] << 4 | (i + 1 < huffman.Length ? huffman[i + 1] : 0)));
        var table = CanonicalHuffman.Codes(huffman);
        foreach (int c in codes) writer.Write(table[c], huffman[c]);
        var bytes = writer.ToArray();
        Varint.Write(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void WriteSingle(Stream s, float v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, v);
        s.Write(b);
    }
}
