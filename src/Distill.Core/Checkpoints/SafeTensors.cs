using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Checkpoints;

/// <summary>
/// Reader and writer of the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length N, N bytes of UTF-8 JSON header <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}</c>
/// (starting with '{', optionally space-padded), then the data section.
/// <para>
/// Why our own: TorchSharp has no safetensors support, and a checkpoint is untrusted input. Every header field is checked
/// against the file before any tensor is allocated, so a malformed file (truncated, header length beyond the file,
/// out-of-range or overlapping offsets, dtype/shape/byte-count mismatch, duplicate keys, trailing garbage, huge header)
/// ends in a <see cref="SafeTensorsFormatException"/> naming the file and the problem, never in a crash, a hang or an
/// allocation larger than the file. Reading memory-maps the file and copies each tensor once, straight from the mapping
/// into its torch storage (no full-file copy). Gaps between tensors in the data section are allowed.
/// </para>
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers larger than this are refused (the format's reference implementation uses 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The index file of a sharded checkpoint, as written by HF <c>save_pretrained</c>.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>Largest single span copied at once (Span lengths are int; big tensors are copied in chunks).</summary>
    private const long CopyChunkBytes = 1L << 30;

    private static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new()
    {
        ["F64"] = (ScalarType.Float64, 8), ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>The safetensors dtype name of a torch dtype, or null when the format cannot hold it.</summary>
    public static string? DTypeName(ScalarType type)
    {
        foreach (var (name, info) in DTypes)
            if (info.Type == type) return name;
        return null;
    }

    /// <summary>Reads and validates the header only (no tensor data is touched beyond the layout checks).</summary>
    public static (IReadOnlyList<SafeTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata, long DataStart) ReadHeader(string path)
    {
        using var fs = OpenRead(path);
        return ReadHeader(fs, path);
    }

    private static FileStream OpenRead(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: safetensors file not found.", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    private static (IReadOnlyList<SafeTensorInfo>, IReadOnlyDictionary<string, string>, long) ReadHeader(Stream fs, string path)
    {
        long fileLength = fs.Length;
        if (fileLength < 8) throw Bad(path, $"the file is {fileLength} bytes, shorter than the 8-byte header length (truncated or not a safetensors file)");
        Span<byte> lenBytes = stackalloc byte[8];
        fs.ReadExactly(lenBytes);
        ulong headerLen = BitConverter.ToUInt64(lenBytes);
        if (headerLen > MaxHeaderBytes) throw Bad(path, $"header length {headerLen} exceeds the {MaxHeaderBytes}-byte limit (corrupt length field or not a safetensors file)");
        if ((long)headerLen > fileLength - 8) throw Bad(path, $"header length {headerLen} runs past the end of the file ({fileLength} bytes; truncated?)");
        if (headerLen < 2) throw Bad(path, $"header length {headerLen} is too short to hold a JSON object");
        var header = new byte[headerLen];
        fs.ReadExactly(header);
        long dataStart = 8 + (long)headerLen;
        long dataLength = fileLength - dataStart;
        return ParseHeader(path, header, dataLength, dataStart);
    }

    private static (IReadOnlyList<SafeTensorInfo>, IReadOnlyDictionary<string, string>, long) ParseHeader(string path, byte[] header, long dataLength, long dataStart)
    {
        if (header[0] != (byte)'{') throw Bad(path, $"header does not start with '{{' (first byte 0x{header[0]:X2} at file offset 8)");
        if (!Utf8.IsValid(header)) throw Bad(path, "header is not valid UTF-8");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (JsonException e) { throw Bad(path, $"header is not valid JSON ({e.Message}; trailing garbage after the object, or a corrupt header length?)"); }
        using (doc)
        {
            try
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, "header is not a JSON object");
                var tensors = new List<SafeTensorInfo>();
                var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var prop in doc.RootElement.EnumerateObject())
                {
                    if (!seen.Add(prop.Name)) throw Bad(path, $"key '{prop.Name}' appears twice in the header");
                    if (prop.Name == "__metadata__")
                    {
                        if (prop.Value.ValueKind != JsonValueKind.Object) throw Bad(path, "__metadata__ is not an object");
                        foreach (var m in prop.Value.EnumerateObject())
                        {
                            if (m.Value.ValueKind != JsonValueKind.String) throw Bad(path, $"__metadata__.{m.Name} is not a string");
                            if (!metadata.TryAdd(m.Name, m.Value.GetString()!)) throw Bad(path, $"__metadata__ key '{m.Name}' appears twice");
                        }
                        continue;
                    }
                    tensors.Add(ParseEntry(path, prop, dataLength));
                }
                CheckLayout(path, tensors);
                return (tensors, metadata, dataStart);
            }
            catch (InvalidOperationException e)
            {
                // System.Text.Json reports unrepresentable strings (lone surrogates in escapes) this way.
                throw Bad(path, $"header holds a string that cannot be decoded ({e.Message})");
            }
        }
    }

    private static SafeTensorInfo ParseEntry(string path, JsonProperty prop, long dataLength)
    {
        var v = prop.Value;
        string where = $"tensor '{prop.Name}'";
        if (v.ValueKind != JsonValueKind.Object) throw Bad(path, $"{where} is not an object");
        var fields = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
        {
            if (p.Name is not ("dtype" or "shape" or "data_offsets")) throw Bad(path, $"{where} has unknown field '{p.Name}'");
            if (!fields.Add(p.Name)) throw Bad(path, $"{where} has field '{p.Name}' twice");
        }
        if (!v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw Bad(path, $"{where} has no string 'dtype'");
        string dtype = dt.GetString()!;
        if (!DTypes.TryGetValue(dtype, out var info)) throw Bad(path, $"{where} has unsupported dtype '{dtype}' (supported: {string.Join(", ", DTypes.Keys)})");
        if (!v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw Bad(path, $"{where} has no 'shape' array");
        var shape = new List<long>();
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long n) || n < 0) throw Bad(path, $"{where} has a shape entry that is not a non-negative integer");
            shape.Add(n);
        }
        if (!v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw Bad(path, $"{where} has no 'data_offsets' pair [begin, end]");
        if (off[0].ValueKind != JsonValueKind.Number || off[1].ValueKind != JsonValueKind.Number
            || !off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw Bad(path, $"{where} has invalid data_offsets (need integers 0 <= begin <= end)");
        if (end > dataLength) throw Bad(path, $"{where} ends at byte {end} of the data section, which has only {dataLength} bytes (file truncated or offsets out of range)");
        // Overflow-checked sizes: a crafted shape must not wrap around into a small number. The product of the non-zero
        // dims is checked too, so an empty tensor like [0, 2^62, 2^62] cannot reach libtorch's stride computation.
        long numel = 1, span = 1;
        try
        {
            foreach (long d in shape) { numel = checked(numel * d); span = checked(span * Math.Max(d, 1)); }
            _ = checked(span * info.Size);
            numel = checked(numel * info.Size);
        }
        catch (OverflowException) { throw Bad(path, $"{where} has shape [{string.Join(", ", shape)}] whose size overflows"); }
        if (numel != end - begin)
            throw Bad(path, $"{where}: {dtype} shape [{string.Join(", ", shape)}] needs {numel} bytes but data_offsets [{begin}, {end}] span {end - begin}");
        return new SafeTensorInfo(prop.Name, dtype, shape.ToArray(), begin, end);
    }

    private static void CheckLayout(string path, List<SafeTensorInfo> tensors)
    {
        // Empty tensors occupy no bytes and cannot overlap anything.
        var sorted = tensors.Where(t => t.End > t.Begin).OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw Bad(path, $"tensors '{sorted[i - 1].Name}' [{sorted[i - 1].Begin}, {sorted[i - 1].End}) and '{sorted[i].Name}' [{sorted[i].Begin}, {sorted[i].End}) overlap in the data section");
    }

    /// <summary>Loads every tensor (on CPU). Throws <see cref="SafeTensorsFormatException"/> for malformed files.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var fs = OpenRead(path);
        var (infos, _, dataStart) = ReadHeader(fs, path);
        long fileLength = fs.Length;
        if (infos.All(i => i.End == i.Begin))
        {
            foreach (var info in infos) result[info.Name] = torch.empty(info.Shape, DTypes[info.DType].Type);
            return result;
        }
        using var mmf = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        using var view = mmf.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.Read);
        unsafe
        {
            byte* basePtr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
            try
            {
                basePtr += view.PointerOffset;
                foreach (var info in infos)
                {
                    var t = torch.empty(info.Shape, DTypes[info.DType].Type);
                    CopyInto(t, basePtr + dataStart + info.Begin, info.End - info.Begin);
                    result[info.Name] = t;
                }
            }
            catch
            {
                foreach (var t in result.Values) t.Dispose();
                throw;
            }
            finally { view.SafeMemoryMappedViewHandle.ReleasePointer(); }
        }
        return result;
    }

    /// <summary>Copies <paramref name="n"/> raw bytes into a fresh contiguous CPU tensor, in chunks Span can hold.</summary>
    internal static unsafe void CopyInto(Tensor t, byte* src, long n)
    {
        if (n == 0) return;
        long elem = t.element_size();
        if (n <= CopyChunkBytes) { new ReadOnlySpan<byte>(src, (int)n).CopyTo(t.bytes); return; }
        using var flat = t.view(-1);
        long perChunk = CopyChunkBytes / elem;
        for (long start = 0; start < flat.shape[0]; start += perChunk)
        {
            long count = Math.Min(perChunk, flat.shape[0] - start);
            using var part = flat.narrow(0, start, count); // a contiguous slice: its data pointer includes the offset
            new ReadOnlySpan<byte>(src + start * elem, checked((int)(count * elem))).CopyTo(part.bytes);
        }
    }

    /// <summary>
    /// Loads a sharded checkpoint through its index (<c>model.safetensors.index.json</c> in <paramref name="folder"/>):
    /// <c>{"metadata": {...}, "weight_map": {tensor name: shard file name}}</c>. The index is validated first: a
    /// non-empty weight_map of string values, plain file names inside the folder, every shard present, no key mapped
    /// twice; then every shard's keys must equal the keys the map assigns to it (no key in two shards, none missing).
    /// </summary>
    public static Dictionary<string, Tensor> LoadSharded(string folder, string indexFileName = IndexFileName)
    {
        string indexPath = Path.Combine(folder, indexFileName);
        var shards = ReadIndex(indexPath, folder);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var (file, expected) in shards)
            {
                string shardPath = Path.Combine(folder, file);
                var (infos, _, _) = ReadHeader(shardPath);
                var actual = infos.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
                foreach (var name in actual)
                    if (owner.TryGetValue(name, out var other))
                        throw BadIndex(indexPath, $"tensor '{name}' is stored in two shards, '{other}' and '{file}'");
                var notInShard = expected.Where(k => !actual.Contains(k)).Order(StringComparer.Ordinal).ToList();
                var notInMap = actual.Where(k => !expected.Contains(k)).Order(StringComparer.Ordinal).ToList();
                if (notInShard.Count > 0 || notInMap.Count > 0)
                    throw BadIndex(indexPath, $"shard '{file}' does not match the weight_map:"
                        + (notInShard.Count > 0 ? $" mapped to it but absent: {Preview(notInShard)};" : "")
                        + (notInMap.Count > 0 ? $" present but mapped elsewhere or not at all: {Preview(notInMap)};" : ""));
                foreach (var name in actual) owner[name] = file;
                foreach (var (k, v) in Load(shardPath)) result[k] = v;
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Parses and validates the index: returns shard file → the set of tensor names mapped to it.</summary>
    internal static Dictionary<string, HashSet<string>> ReadIndex(string indexPath, string folder)
    {
        if (!File.Exists(indexPath)) throw new FileNotFoundException($"{indexPath}: sharded checkpoint index not found.", indexPath);
        var bytes = File.ReadAllBytes(indexPath);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException e) { throw BadIndex(indexPath, $"not valid JSON ({e.Message})"); }
        using (doc)
        {
            try
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw BadIndex(indexPath, "the top level is not a JSON object");
                if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                    throw BadIndex(indexPath, "no 'weight_map' object");
                var shards = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
                var keys = new HashSet<string>(StringComparer.Ordinal);
                foreach (var entry in map.EnumerateObject())
                {
                    if (!keys.Add(entry.Name)) throw BadIndex(indexPath, $"weight_map lists tensor '{entry.Name}' twice");
                    if (entry.Value.ValueKind != JsonValueKind.String) throw BadIndex(indexPath, $"weight_map['{entry.Name}'] is not a file name string");
                    string file = entry.Value.GetString()!;
                    if (file.Length == 0 || file != Path.GetFileName(file) || file is "." or ".." || file.Contains('/') || file.Contains('\\'))
                        throw BadIndex(indexPath, $"weight_map['{entry.Name}'] = '{file}' is not a plain file name inside the folder");
                    if (!shards.TryGetValue(file, out var set)) shards[file] = set = new HashSet<string>(StringComparer.Ordinal);
                    set.Add(entry.Name);
                }
                if (shards.Count == 0) throw BadIndex(indexPath, "weight_map is empty");
                var absent = shards.Keys.Where(f => !File.Exists(Path.Combine(folder, f))).Order(StringComparer.Ordinal).ToList();
                if (absent.Count > 0) throw BadIndex(indexPath, $"shard file(s) not found in {folder}: {string.Join(", ", absent)}");
                return shards;
            }
            catch (InvalidOperationException e) { throw BadIndex(indexPath, $"holds a string that cannot be decoded ({e.Message})"); }
        }
    }

    /// <summary>
    /// Writes tensors (sorted by name, each made contiguous on CPU, data packed from offset 0, header space-padded to a
    /// multiple of 8 as HF does) atomically: to a unique temp file beside <paramref name="path"/>, then renamed over it.
    /// Supported dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL. Empty tensors and scalars (shape []) are fine.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        if (names.Contains("__metadata__")) throw new ArgumentException($"{path}: a tensor may not be named '__metadata__' (reserved by the safetensors format).");
        var cpu = new List<Tensor>();
        byte[] json;
        try
        {
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms))
            {
                w.WriteStartObject();
                if (metadata is { Count: > 0 })
                {
                    w.WriteStartObject("__metadata__");
                    foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
                    w.WriteEndObject();
                }
                long offset = 0;
                foreach (var name in names)
                {
                    var src = tensors[name] ?? throw new ArgumentException($"{path}: tensor '{name}' is null.");
                    var t = src.detach().cpu().contiguous();
                    cpu.Add(t);
                    string dtype = DTypeName(t.dtype)
                        ?? throw new ArgumentException($"{path}: tensor '{name}' has dtype {t.dtype}, which safetensors cannot store (supported: {string.Join(", ", DTypes.Keys)}).");
                    long bytes = t.numel() * t.element_size();
                    w.WriteStartObject(name);
                    w.WriteString("dtype", dtype);
                    w.WriteStartArray("shape");
                    foreach (long d in t.shape) w.WriteNumberValue(d);
                    w.WriteEndArray();
                    w.WriteStartArray("data_offsets");
                    w.WriteNumberValue(offset);
                    w.WriteNumberValue(offset + bytes);
                    w.WriteEndArray();
                    w.WriteEndObject();
                    offset += bytes;
                }
                w.WriteEndObject();
            }
            json = ms.ToArray();
            int pad = (8 - json.Length % 8) % 8;

            string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            string tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
            try
            {
                using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
                {
                    fs.Write(BitConverter.GetBytes((ulong)(json.Length + pad)));
                    fs.Write(json);
                    for (int i = 0; i < pad; i++) fs.WriteByte((byte)' ');
                    foreach (var t in cpu) WriteTensor(fs, t);
                }
                File.Move(tmp, path, overwrite: true);
            }
            catch
            {
                if (File.Exists(tmp)) File.Delete(tmp);
                throw;
            }
        }
        finally
        {
            foreach (var t in cpu) t.Dispose();
        }
    }

    private static void WriteTensor(Stream fs, Tensor t)
    {
        long n = t.numel() * t.element_size();
        if (n == 0) return;
        if (n <= CopyChunkBytes) { fs.Write(t.bytes); return; }
        long elem = t.element_size();
        using var flat = t.view(-1);
        long perChunk = CopyChunkBytes / elem;
        for (long start = 0; start < flat.shape[0]; start += perChunk)
        {
            using var part = flat.narrow(0, start, Math.Min(perChunk, flat.shape[0] - start));
            fs.Write(part.bytes);
        }
    }

    private static string Preview(List<string> keys) =>
        string.Join(", ", keys.Take(20)) + (keys.Count > 20 ? $" ... ({keys.Count} in all)" : "");

    private static SafeTensorsFormatException Bad(string path, string what) => new($"{path}: malformed safetensors file: {what}.");

    private static SafeTensorsFormatException BadIndex(string path, string what) => new($"{path}: invalid sharded-checkpoint index: {what}.");
}
