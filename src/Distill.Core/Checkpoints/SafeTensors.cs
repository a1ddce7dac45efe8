using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Checkpoints;

/// <summary>
/// Reader and writer of the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length N, N bytes of JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
/// then the data section. Reading memory-maps the file and copies each tensor once, straight into its torch storage.
/// Every header field is checked against the file before any tensor is allocated.
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers larger than this are refused (the format's reference implementation uses 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new()
    {
        ["F64"] = (ScalarType.Float64, 8), ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Reads and validates the header only.</summary>
    public static (IReadOnlyList<SafeTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata, long DataStart) ReadHeader(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ReadHeader(fs, path);
    }

    private static (IReadOnlyList<SafeTensorInfo>, IReadOnlyDictionary<string, string>, long) ReadHeader(Stream fs, string path)
    {
        long fileLength = fs.Length;
        if (fileLength < 8) throw Bad(path, $"the file is {fileLength} bytes, shorter than the 8-byte header length");
        Span<byte> lenBytes = stackalloc byte[8];
        fs.ReadExactly(lenBytes);
        ulong headerLen = BitConverter.ToUInt64(lenBytes);
        if (headerLen > MaxHeaderBytes) throw Bad(path, $"header length {headerLen} exceeds the {MaxHeaderBytes}-byte limit");
        if ((long)headerLen > fileLength - 8) throw Bad(path, $"header length {headerLen} runs past the end of the file ({fileLength} bytes)");
        var header = new byte[headerLen];
        fs.ReadExactly(header);
        long dataStart = 8 + (long)headerLen;
        long dataLength = fileLength - dataStart;

        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw Bad(path, $"header is not valid JSON ({e.Message})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, "header is not a JSON object");
            var tensors = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw Bad(path, "__metadata__ is not an object");
                    foreach (var m in prop.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : throw Bad(path, $"__metadata__.{m.Name} is not a string");
                    continue;
                }
                tensors.Add(ParseEntry(path, prop, dataLength));
            }
            CheckLayout(path, tensors, dataLength);
            return (tensors, metadata, dataStart);
        }
    }

    private static SafeTensorInfo ParseEntry(string path, JsonProperty prop, long dataLength)
    {
        var v = prop.Value;
        string where = $"tensor '{prop.Name}'";
        if (v.ValueKind != JsonValueKind.Object) throw Bad(path, $"{where} is not an object");
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
            throw Bad(path, $"{where} has no 'data_offsets' pair");
        if (!off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw Bad(path, $"{where} has invalid data_offsets");
        if (end > dataLength) throw Bad(path, $"{where} ends at byte {end} of the data section, which has only {dataLength} bytes (file truncated?)");
        // Overflow-checked element count: a crafted shape must not wrap around into a small number.
        long numel = 1;
        try { foreach (long d in shape) numel = checked(numel * d); numel = checked(numel * info.Size); }
        catch (OverflowException) { throw Bad(path, $"{where} has a shape whose size overflows"); }
        if (numel != end - begin)
            throw Bad(path, $"{where}: {dtype} shape [{string.Join(", ", shape)}] needs {numel} bytes but data_offsets span {end - begin}");
        foreach (var p in v.EnumerateObject())
            if (p.Name is not ("dtype" or "shape" or "data_offsets")) throw Bad(path, $"{where} has unknown field '{p.Name}'");
        return new SafeTensorInfo(prop.Name, dtype, shape.ToArray(), begin, end);
    }

    private static void CheckLayout(string path, List<SafeTensorInfo> tensors, long dataLength)
    {
        var sorted = tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw Bad(path, $"tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap in the data section");
        _ = dataLength;
    }

    /// <summary>Loads every tensor (on CPU). Throws <see cref="SafeTensorsFormatException"/> for malformed files.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        var (infos, _, dataStart) = ReadHeader(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        long fileLength = new FileInfo(path).Length;
        if (fileLength == 0) return result;
        using var mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
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
                    long n = info.End - info.Begin;
                    if (n > 0)
                    {
                        var src = new ReadOnlySpan<byte>(basePtr + dataStart + info.Begin, checked((int)n));
                        src.CopyTo(t.bytes); // bytes is a view of the tensor's storage, not a copy
                    }
                    result[info.Name] = t;
                }
            }
            finally { view.SafeMemoryMappedViewHandle.ReleasePointer(); }
        }
        return result;
    }

    /// <summary>Writes tensors (sorted by name, contiguous) atomically: to a temp file beside <paramref name="path"/>, then renamed.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        var cpu = new List<Tensor>();
        foreach (var name in names)
        {
            var t = tensors[name].detach().cpu().contiguous();
            string dtype = DTypes.First(kv => kv.Value.Type == t.dtype).Key;
            long bytes = t.numel() * t.element_size();
            header[name] = new { dtype, shape = t.shape, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
            cpu.Add(t);
        }
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        int pad = (8 - json.Length % 8) % 8;
        string tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            fs.Write(BitConverter.GetBytes((ulong)(json.Length + pad)));
            fs.Write(json);
            for (int i = 0; i < pad; i++) fs.WriteByte((byte)' ');
            foreach (var t in cpu)
            {
                long n = t.numel() * t.element_size();
                if (n == 0) continue;
                fs.Write(t.bytes);
            }
        }
        File.Move(tmp, path, overwrite: true);
    }

    private static SafeTensorsFormatException Bad(string path, string what) => new($"{path}: malformed safetensors file: {what}.");
}
