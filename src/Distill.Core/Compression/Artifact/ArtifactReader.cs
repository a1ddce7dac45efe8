using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Distill.Compression.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Artifact;

/// <summary>
/// Decodes an artifact written by <see cref="ArtifactEncoder"/> into dense tensors. Every malformed input — wrong
/// magic or version, a record that runs past the end, an unknown kind, a position beyond the tensor, bytes left over —
/// is an <see cref="InvalidDataException"/> naming the file, the byte offset and the tensor; a file that does not
/// match its <see cref="ArtifactChecksum"/> (when it has one) is refused before decoding. Reads format versions 1
/// (plain names, plain config), 2, 3 (exponent-coded scales, AFFINE values) and 4 (BLOOMIER values).
/// </summary>
public static class ArtifactReader
{
    /// <summary>Decodes the artifact at <paramref name="path"/>. A layout-1 file (records without names and shapes) needs
    /// <paramref name="layout"/>: the names and shapes of the state dict of the model that the header's family and config
    /// (JSON) describe, in order — <see cref="ModelArtifact.Load"/> passes the model registry's.</summary>
    public static CompressedArtifact Read(string path, Func<string, string, IReadOnlyList<(string Name, long[] Shape)>>? layout = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Compressed artifact {path} does not exist.", path);
        var data = File.ReadAllBytes(path);
        ArtifactChecksum.Verify(path, data);
        var r = new Cursor(data, path);
        if (data.Length < 5 || !data.AsSpan(0, 4).SequenceEqual(ArtifactEncoder.Magic))
            throw new InvalidDataException($"{path} is not a Distill compressed artifact (it does not start with 'DCMP').");
        r.Position = 4;
        byte version = r.Byte("version");
        r.Version = version;
        if (version is < 1 or > ArtifactEncoder.Version)
            throw new InvalidDataException($"{path}: artifact format version {version}; this build reads versions 1 to {ArtifactEncoder.Version}.");
        string family = r.String("family");
        string config = version == 1 ? r.String("config") : Config(r);
        long activationCount = r.Varint("activation count");
        var activations = new List<ActivationRange>();
        for (long i = 0; i < activationCount; i++)
        {
            string module = r.String("activation module");
            int bits = r.Byte("activation bits");
            if (bits is < 2 or > 8) throw r.Error($"activation range of '{module}' has {bits} bits; 2..8 are valid");
            activations.Add(new ActivationRange(module, bits, r.Single("activation min"), r.Single("activation max")));
        }
        long count = r.Varint("tensor count");
        IReadOnlyList<(string Name, long[] Shape)>? names = null;
        if (version >= 3)
        {
            byte kind = r.Byte("record layout");
            if (kind == ArtifactEncoder.LayoutImplicit)
            {
                uint hash = BinaryPrimitives.ReadUInt32LittleEndian(r.Data.AsSpan(r.Take(4, "layout hash"), 4));
                if (layout is null)
                    throw new InvalidDataException($"{path}: the records carry no tensor names (layout 1); read it with ModelArtifact.Load, which rebuilds the {family} model from the header to name them.");
                names = layout(family, config);
                if (names.Count != count || ArtifactEncoder.HashLayout(names) != hash)
                    throw new InvalidDataException($"{path}: the {family} model of the header has {names.Count} tensors whose names and shapes do not match the writer's ({count} tensors, layout hash {hash:x8}); the file was written by a build whose {family} model differs.");
            }
            else if (kind != ArtifactEncoder.LayoutNamed) throw r.Error($"unknown record layout {kind} (0 = named records, 1 = the model's state dict in order)");
        }
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var records = new List<ArtifactTensorInfo>();
        byte[] previous = [];
        try
        {
            for (long i = 0; i < count; i++)
            {
                long start = r.Position;
                string name0;
                long[]? shape = null;
                if (names is not null) (name0, shape) = names[(int)i];
                else
                {
                    previous = version == 1 ? Encoding.UTF8.GetBytes(r.String("tensor name")) : r.FrontCodedName(previous);
                    name0 = Encoding.UTF8.GetString(previous);
                }
                var (name, tensor, info) = ReadTensor(r, name0, version, shape);
                if (!tensors.TryAdd(name, tensor))
                    throw new InvalidDataException($"{path}: tensor '{name}' appears twice (second at byte {start}).");
                records.Add(info with { Bytes = r.Position - start });
            }
            if (r.Position != data.Length)
                throw new InvalidDataException($"{path}: {data.Length - r.Position} unexpected bytes after the last tensor (at byte {r.Position}).");
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return new CompressedArtifact { Path = path, Family = family, ConfigJson = config, Activations = activations, Tensors = tensors, Records = records };
    }

    /// <summary>The header's config: u8 encoding, varint length, bytes (UTF-8 JSON, or raw DEFLATE of it).</summary>
    private static string Config(Cursor r)
    {
        byte encoding = r.Byte("config encoding");
        long n = r.Varint("config length");
        int start = r.Take(n, "config");
        if (encoding == ArtifactEncoder.ConfigRaw) return Encoding.UTF8.GetString(r.Data, start, (int)n);
        if (encoding != ArtifactEncoder.ConfigDeflate) throw r.Error($"unknown config encoding {encoding} (0 = JSON, 1 = DEFLATE)");
        const int limit = 16 << 20;
        using var json = new MemoryStream();
        try
        {
            using var inflate = new DeflateStream(new MemoryStream(r.Data, start, (int)n), CompressionMode.Decompress);
            var buffer = new byte[8192];
            for (int got; json.Length <= limit && (got = inflate.Read(buffer)) > 0;) json.Write(buffer, 0, got);
        }
        catch (InvalidDataException e)
        {
            throw r.Error($"the config's DEFLATE stream is corrupt ({e.Message})");
        }
        if (json.Length > limit) throw r.Error($"the config inflates to more than {limit} bytes");
        return Encoding.UTF8.GetString(json.ToArray());
    }

    /// <param name="knownShape">Layout 1: the shape from the model (the record has none); null: read it from the record.</param>
    private static (string, Tensor, ArtifactTensorInfo) ReadTensor(Cursor r, string name, byte version, long[]? knownShape)
    {
        r.Context = name;
        long[] shape;
        if (knownShape is not null) shape = knownShape;
        else
        {
            shape = new long[r.Byte("rank")];
            for (int d = 0; d < shape.Length; d++) shape[d] = r.Varint("dimension");
        }
        int rank = shape.Length;
        long numel = 1;
        foreach (long d in shape) numel = checked(numel * d);
        if (numel > int.MaxValue) throw r.Error($"has {numel} elements; this reader decodes at most {int.MaxValue} per tensor");
        var values = (ValueKind)r.Byte("values_kind");
        var positions = (PositionKind)r.Byte("positions_kind");
        int flags = r.Byte("flags");
        if (!Enum.IsDefined(values)) throw r.Error($"unknown values_kind {(int)values}");
        if (!Enum.IsDefined(positions)) throw r.Error($"unknown positions_kind {(int)positions}");
        if ((flags & (version >= 3 ? ~31 : ~15)) != 0) throw r.Error($"unknown flags {flags} for format version {version}");
        if (values == ValueKind.Affine && version < 3) throw r.Error($"values_kind 5 (affine) needs format version 3, the file is version {version}");
        if (values == ValueKind.Bloomier)
        {
            if (version < 4) throw r.Error($"values_kind 6 (bloomier) needs format version 4, the file is version {version}");
            if (positions != PositionKind.All) throw r.Error("a Bloomier table covers every position: its positions_kind must be 0 (all)");
            if (flags != 0) throw r.Error($"a Bloomier record has no Huffman-coded or scale streams, but flags are {flags}");
        }
        bool huffValues = (flags & ArtifactEncoder.FlagValueHuffman) != 0, huffPositions = (flags & ArtifactEncoder.FlagPositionHuffman) != 0;
        bool scaleBook = (flags & ArtifactEncoder.FlagScaleCodebook) != 0, huffScales = (flags & ArtifactEncoder.FlagScaleHuffman) != 0;
        if (scaleBook && values != ValueKind.Linear) throw r.Error("only linear values have scales to store as a codebook (flag 4)");
        bool scaleExponents = (flags & ArtifactEncoder.FlagScaleExponent) != 0;
        if (scaleExponents && (values != ValueKind.Linear || scaleBook)) throw r.Error("flag 16 (exponent-coded scales) needs linear values and excludes flag 4 (scale codebook)");
        if (huffScales && !scaleBook && !scaleExponents) throw r.Error("flag 8 (Huffman-coded scale codes) needs flag 4 (scale codebook) or flag 16 (scale exponents)");
        if (values == ValueKind.I64 && positions != PositionKind.All) throw r.Error("int64 tensors are stored at all positions");

        LinearQuantParams? linear = null;
        float[]? codebook = null;
        (float Offset, float Step)? affine = null;
        BloomierTensor? bloomier = null;
        int bits = 0;
        long channelLen = rank >= 1 && shape[0] > 0 ? numel / shape[0] : numel;
        switch (values)
        {
            case ValueKind.Linear:
                bits = r.Byte("bits");
                bool perChannel = r.Byte("per_channel") != 0;
                bool symmetric = r.Byte("symmetric") != 0;
                if (bits is < 1 or > 16) throw r.Error($"linear code width {bits} is outside 1..16");
                int channels = perChannel ? (int)shape[0] : 1;
                var scales = new float[channels];
                if (scaleBook)
                {
                    int scaleBits = r.Byte("scale code bits");
                    if (scaleBits is < 1 or > 8) throw r.Error($"scale code width {scaleBits} is outside 1..8");
                    long size = r.Varint("scale codebook size");
                    if (size < 1 || size > 1L << scaleBits) throw r.Error($"a scale codebook of {size} entries does not fit {scaleBits}-bit codes");
                    var book = new float[size];
                    for (long c = 0; c < size; c++) book[c] = r.Single("scale");
                    var scaleCodes = ReadCodes(r, channels, scaleBits, huffScales, "scale codes");
                    for (int c = 0; c < channels; c++)
                    {
                        if (scaleCodes[c] >= size) throw r.Error($"scale code {scaleCodes[c]} is beyond the {size} scales");
                        scales[c] = book[scaleCodes[c]];
                    }
                }
                else if (scaleExponents)
                {
                    int steps = r.Byte("scale steps per octave");
                    if (steps < 1) throw r.Error("scale exponents need at least 1 step per octave");
                    long zig = r.Varint("scale exponent base");
                    if (zig > uint.MaxValue) throw r.Error($"scale exponent base {zig} is out of range");
                    int expBase = (int)((uint)zig >> 1) ^ -(int)(zig & 1);
                    int scaleBits = r.Byte("scale exponent bits");
                    if (scaleBits is < 1 or > 8) throw r.Error($"scale exponent width {scaleBits} is outside 1..8");
                    var scaleCodes = ReadCodes(r, channels, scaleBits, huffScales, "scale exponents");
                    for (int c = 0; c < channels; c++) scales[c] = QuantScheme.ExponentScale(expBase + scaleCodes[c], steps);
                }
                else
                    for (int c = 0; c < channels; c++) scales[c] = r.Single("scale");
                var zps = new int[channels];
                for (int c = 0; c < channels; c++) zps[c] = symmetric ? 1 << (bits - 1) : (int)r.Varint("zero point");
                linear = new LinearQuantParams(bits, perChannel, symmetric, scales, zps);
                break;
            case ValueKind.Codebook:
                bits = r.Byte("bits");
                if (bits is < 1 or > 16) throw r.Error($"codebook index width {bits} is outside 1..16");
                long k = r.Varint("codebook size");
                if (k < 1 || k > 1L << bits) throw r.Error($"codebook of {k} entries does not fit {bits}-bit indices");
                codebook = new float[k];
                for (long c = 0; c < k; c++) codebook[c] = r.Single("centroid");
                break;
            case ValueKind.Affine:
                bits = r.Byte("bits");
                if (bits is < 1 or > 16) throw r.Error($"affine code width {bits} is outside 1..16");
                affine = (r.Single("affine offset"), r.Single("affine step"));
                if (!float.IsFinite(affine.Value.Offset) || !float.IsFinite(affine.Value.Step)) throw r.Error("the affine offset and step must be finite");
                break;
            case ValueKind.Bloomier:
                bloomier = ReadBloomier(r, out bits);
                break;
        }

        long[]? stored = null;
        long storedCount = numel;
        switch (positions)
        {
            case PositionKind.Relative:
            {
                int width = r.Byte("index_bits");
                if (width is < 1 or > 16) throw r.Error($"index width {width} is outside 1..16");
                long entries = r.Varint("index entries");
                storedCount = r.Varint("stored count");
                if (storedCount > numel || entries < storedCount) throw r.Error($"{storedCount} stored values in {entries} index entries do not fit {numel} positions");
                var codes = ReadCodes(r, entries, width, huffPositions, "relative index");
                stored = new long[storedCount];
                long span = (1L << width) - 1, pos = -1, j = 0;
                foreach (int c in codes)
                {
                    if (c == 0) { pos += span; continue; }
                    pos += c;
                    if (j >= storedCount || pos >= numel) throw r.Error($"relative index points past the tensor (position {pos} of {numel})");
                    stored[j++] = pos;
                }
                if (j != storedCount) throw r.Error($"relative index locates {j} values, the record says {storedCount}");
                break;
            }
            case PositionKind.NM:
            {
                int n = r.Byte("N"), m = r.Byte("M");
                if (n < 1 || m < 2 || n >= m) throw r.Error($"invalid N:M {n}:{m}");
                if (rank < 2 || channelLen % m != 0) throw r.Error($"N:M {n}:{m} needs rows whose length is a multiple of {m}");
                long groups = numel / m;
                storedCount = groups * n;
                var codes = ReadCodes(r, storedCount, ArtifactEncoder.OffsetBits(m), huffPositions, "N:M offsets");
                stored = new long[storedCount];
                for (long i = 0; i < storedCount; i++)
                {
                    if (codes[i] >= m) throw r.Error($"N:M offset {codes[i]} is not below M = {m}");
                    if (i % n > 0 && codes[i] <= codes[i - 1]) throw r.Error($"N:M offsets of group {i / n} are not ascending");
                    stored[i] = i / n * m + codes[i];
                }
                break;
            }
            case PositionKind.NMCombination:
            {
                int n = r.Byte("N"), m = r.Byte("M");
                if (n < 1 || m < 2 || n >= m || m > NmCombination.MaxM) throw r.Error($"invalid N:M {n}:{m} for combination indices (1 <= N < M <= {NmCombination.MaxM})");
                if (rank < 2 || channelLen % m != 0) throw r.Error($"N:M {n}:{m} needs rows whose length is a multiple of {m}");
                long groups = numel / m;
                storedCount = groups * n;
                long sets = NmCombination.Binomial(m, n);
                var codes = ReadCodes(r, groups, NmCombination.CodeBits(n, m), huffPositions, "N:M combination indices");
                stored = new long[storedCount];
                var offsets = new int[n];
                for (long g = 0; g < groups; g++)
                {
                    if (codes[g] >= sets) throw r.Error($"N:M combination index {codes[g]} of group {g} is not below C({m}, {n}) = {sets}");
                    NmCombination.Unrank(codes[g], m, offsets);
                    for (int i = 0; i < n; i++) stored[g * n + i] = g * m + offsets[i];
                }
                break;
            }
            default:
                if (huffPositions) throw r.Error("a tensor stored at all positions has no position stream to Huffman-code");
                break;
        }

        Tensor tensor;
        if (values == ValueKind.I64)
        {
            var longs = new long[numel];
            for (long i = 0; i < numel; i++) longs[i] = r.Int64("value");
            tensor = torch.tensor(longs).view(shape);
        }
        else
        {
            var dense = new float[numel];
            switch (values)
            {
                case ValueKind.F32:
                    for (long i = 0; i < storedCount; i++) dense[At(stored, i)] = r.Single("value");
                    break;
                case ValueKind.F16:
                    for (long i = 0; i < storedCount; i++) dense[At(stored, i)] = (float)r.Half("value");
                    break;
                case ValueKind.Codebook:
                {
                    var codes = ReadCodes(r, storedCount, bits, huffValues, "codebook indices");
                    for (long i = 0; i < storedCount; i++)
                    {
                        if (codes[i] >= codebook!.Length) throw r.Error($"codebook index {codes[i]} is beyond the {codebook.Length} centroids");
                        dense[At(stored, i)] = codebook[codes[i]];
                    }
                    break;
                }
                case ValueKind.Affine:
                {
                    var codes = ReadCodes(r, storedCount, bits, huffValues, "affine codes");
                    var (offset, step) = affine!.Value;
                    for (long i = 0; i < storedCount; i++) dense[At(stored, i)] = ArtifactEncoder.AffineValue(codes[i], offset, step);
                    break;
                }
                case ValueKind.Bloomier:
                    dense = bloomier!.Decode(numel);
                    break;
                case ValueKind.Linear:
                {
                    var codes = ReadCodes(r, storedCount, bits, huffValues, "linear codes");
                    for (long i = 0; i < storedCount; i++)
                    {
                        long flat = At(stored, i);
                        dense[flat] = linear!.Dequantize(codes[i], linear.PerChannel ? (int)(flat / channelLen) : 0);
                    }
                    break;
                }
            }
            tensor = torch.tensor(dense).view(shape);
        }
        var info = new ArtifactTensorInfo(name, shape, values, positions, bits, huffValues, huffPositions, storedCount, 0);
        r.Context = null;
        return (name, tensor, info);
    }

    private static long At(long[]? stored, long i) => stored is null ? i : stored[i];

    /// <summary>BLOOMIER params and table: u8 t (1–16), u8 hashes (3), varint seed (32 bits), varint cells (a positive
    /// multiple of the hashes), varint K (1 … 2^t − 1), K × f32 centroids, cells × t bits.</summary>
    private static BloomierTensor ReadBloomier(Cursor r, out int bits)
    {
        bits = r.Byte("bloomier cell bits");
        if (bits is < 1 or > 16) throw r.Error($"Bloomier cell width {bits} is outside 1..16");
        int hashes = r.Byte("bloomier hash count");
        if (hashes != BloomierFilter.DefaultHashes) throw r.Error($"a Bloomier table with {hashes} hash functions; this reader implements {BloomierFilter.DefaultHashes}");
        long seed = r.Varint("bloomier seed");
        if (seed > uint.MaxValue) throw r.Error($"Bloomier seed {seed} does not fit 32 bits");
        long cells = r.Varint("bloomier cells");
        if (cells < hashes || cells % hashes != 0) throw r.Error($"a Bloomier table of {cells} cells is not a positive multiple of its {hashes} hash functions");
        // Checked against the bytes left before anything is allocated: a corrupt count must not allocate gigabytes.
        // Divided rather than multiplied, so a huge corrupt count cannot wrap the product past the check.
        if (cells > int.MaxValue || cells > (r.Data.Length - r.Position) * 8L / bits) throw r.Error($"a Bloomier table of {cells} cells of {bits} bits runs past the end of the file; is it truncated?");
        long k = r.Varint("bloomier codebook size");
        if (k < 1 || k >= 1L << bits) throw r.Error($"a Bloomier codebook of {k} entries does not fit {bits}-bit cells (1 .. {(1L << bits) - 1}: one code must mean zero)");
        var codebook = new float[k];
        for (long c = 0; c < k; c++)
        {
            codebook[c] = r.Single("bloomier centroid");
            if (!float.IsFinite(codebook[c])) throw r.Error($"Bloomier centroid {c} is not finite");
        }
        var table = ReadCodes(r, cells, bits, false, "bloomier cells");
        return new BloomierTensor(new BloomierFilter(bits, hashes, (uint)seed, table), codebook);
    }

    private static int[] ReadCodes(Cursor r, long count, int width, bool huffman, string what)
    {
        var codes = new int[count];
        if (!huffman)
        {
            long bytes = (count * width + 7) / 8;
            var reader = new BitReader(r.Data, r.Take(bytes, what), (int)bytes, r.Where(what));
            for (long i = 0; i < count; i++) codes[i] = (int)reader.Read(width);
            return codes;
        }
        if (width > 8) throw r.Error($"{what}: Huffman coding is defined for codes of at most 8 bits, not {width}");
        var lengths = new int[1 << width];
        if (r.Version >= 3)
        {
            // Two 4-bit lengths per byte, the even symbol in the high nibble; a padding nibble must be 0.
            for (int s = 0; s < lengths.Length; s += 2)
            {
                byte b = r.Byte("Huffman code lengths");
                lengths[s] = b >> 4;
                if (s + 1 < lengths.Length) lengths[s + 1] = b & 15;
                else if ((b & 15) != 0) throw r.Error($"{what}: the padding nibble of the Huffman table is {b & 15}, not 0");
            }
        }
        else
            for (int s = 0; s < lengths.Length; s++) lengths[s] = r.Byte("Huffman code length");
        long length = r.Varint("Huffman stream length");
        var decoder = new CanonicalHuffman.Decoder(lengths, r.Where(what));
        var bits = new BitReader(r.Data, r.Take(length, what), (int)length, r.Where(what));
        for (long i = 0; i < count; i++) codes[i] = decoder.Next(bits);
        return codes;
    }

    /// <summary>A read position in the file with bounds-checked primitive reads.</summary>
    private sealed class Cursor(byte[] data, string path)
    {
        public byte[] Data { get; } = data;
        public long Position { get; set; }
        public string? Context { get; set; }

        /// <summary>Format version of the file (Huffman tables are byte- or nibble-wise by version).</summary>
        public byte Version { get; set; }

        public string Where(string what) => $"{path}: byte {Position}{(Context is null ? "" : $", tensor '{Context}'")}, {what}";

        public InvalidDataException Error(string message) =>
            new($"{path}: byte {Position}{(Context is null ? "" : $", tensor '{Context}'")}: {message}.");

        /// <summary>Reserves <paramref name="n"/> bytes and returns where they start.</summary>
        public int Take(long n, string what)
        {
            if (n < 0 || Position + n > Data.Length)
                throw Error($"the file ends early while reading {what} ({n} bytes needed, {Data.Length - Position} left); is it truncated?");
            int start = (int)Position;
            Position += n;
            return start;
        }

        public byte Byte(string what) => Data[Take(1, what)];

        public float Single(string what) => BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan(Take(4, what), 4));

        public Half Half(string what) => BinaryPrimitives.ReadHalfLittleEndian(Data.AsSpan(Take(2, what), 2));

        public long Int64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Data.AsSpan(Take(8, what), 8));

        public long Varint(string what)
        {
            ulong value = 0;
            for (int shift = 0; shift < 63; shift += 7)
            {
                byte b = Byte(what);
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return value > long.MaxValue ? throw Error($"{what} is too large") : (long)value;
            }
            throw Error($"{what} is not a valid varint");
        }

        public string String(string what)
        {
            long n = Varint($"{what} length");
            return Encoding.UTF8.GetString(Data, Take(n, what), (int)n);
        }

        /// <summary>A version-2 tensor name: varint bytes shared with <paramref name="previous"/>, then the suffix as a string.</summary>
        public byte[] FrontCodedName(byte[] previous)
        {
            long shared = Varint("tensor name prefix length");
            if (shared > previous.Length) throw Error($"a tensor name shares {shared} bytes with the previous name, which has {previous.Length}");
            long n = Varint("tensor name length");
            int start = Take(n, "tensor name");
            var name = new byte[shared + n];
            Array.Copy(previous, name, shared);
            Array.Copy(Data, start, name, shared, n);
            return name;
        }
    }
}
