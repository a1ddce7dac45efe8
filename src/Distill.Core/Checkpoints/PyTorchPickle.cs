using System.IO.Compression;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Checkpoints;

/// <summary>
/// Reads a <c>pytorch_model.bin</c> written by <c>torch.save</c> (torch ≥ 1.6 zip format) WITHOUT executing anything.
/// <para>
/// Layout: a zip (entries stored uncompressed) with one top folder whose name varies (<c>archive/</c>,
/// <c>pytorch_model/</c>, ...): <c>&lt;top&gt;/data.pkl</c> is a pickle of the state dict in which every tensor is
/// <c>_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)</c> and every storage is a persistent id
/// <c>('storage', torch.FloatStorage, key, location, numel)</c> whose bytes are the entry <c>&lt;top&gt;/data/&lt;key&gt;</c>
/// (little-endian, as <c>&lt;top&gt;/byteorder</c> says when present).
/// </para>
/// <para>
/// Why not "just unpickle": Python's pickle calls any global the file names (<c>posix.system</c>, <c>builtins.eval</c>),
/// so loading an untrusted .bin is code execution. <see cref="RestrictedUnpickler"/> builds data only and refuses every
/// opcode and global a state dict does not need (<see cref="PickleSecurityException"/>). Every storage's byte length and
/// every tensor's offset/size/stride are checked against the storage file before anything is allocated.
/// </para>
/// </summary>
public static class PyTorchPickle
{
    /// <summary>Largest data.pkl accepted (a state dict's pickle is a few bytes per key; real ones are kilobytes).</summary>
    public const long MaxPickleBytes = 256L << 20;

    /// <summary>Loads the state dict as CPU tensors keyed by name.</summary>
    public static Dictionary<string, Tensor> Load(string path) =>
        Read(path, (specs, storages) => Materialise(path, specs, storages));

    /// <summary>
    /// Every check of <see cref="Load"/> — zip layout, the restricted unpickler, each storage's size against its entry,
    /// each tensor's view against its storage — without reading the storages' bytes (a cheap pre-flight; the bytes
    /// themselves carry no checksum the format would let us verify). Returns the number of tensors.
    /// </summary>
    public static int Verify(string path) => Read(path, (specs, _) => specs.Count);

    private static T Read<T>(string path, Func<List<(string Key, PickleTensor Spec)>, Dictionary<string, (PickleStorage Storage, ZipArchiveEntry Entry)>, T> use)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: PyTorch checkpoint not found.", path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        CheckMagic(fs, path);
        ZipArchive zip;
        try { zip = new ZipArchive(fs, ZipArchiveMode.Read, leaveOpen: true); }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException) { throw Bad(path, $"not a readable zip archive ({e.Message}); torch.save writes a zip since torch 1.6"); }
        using (zip)
        {
            try
            {
                var (specs, storages) = Parse(zip, path, fs.Length);
                return use(specs, storages);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            { throw Bad(path, $"corrupt zip archive ({e.Message})"); }
        }
    }

    private static void CheckMagic(FileStream fs, string path)
    {
        Span<byte> head = stackalloc byte[4];
        int n = fs.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        fs.Position = 0;
        if (n < 4) throw Bad(path, $"the file is {fs.Length} bytes, too short for a zip archive");
        if (head[0] == 0x80 && head[1] is >= 2 and <= 5 || head[0] == 0x8a)
            throw Bad(path, "this is the legacy (torch < 1.6) non-zip torch.save format, which is not supported; re-save it with a newer torch or as safetensors");
        if (head[0] != (byte)'P' || head[1] != (byte)'K')
            throw Bad(path, $"does not start with a zip signature ('PK'); first bytes {Convert.ToHexString(head)}");
    }

    private static (List<(string Key, PickleTensor Spec)> Specs, Dictionary<string, (PickleStorage Storage, ZipArchiveEntry Entry)> Storages)
        Parse(ZipArchive zip, string path, long fileLength)
    {
        var pkls = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)
                                          && e.FullName.IndexOf('/') == e.FullName.Length - "/data.pkl".Length).ToList();
        if (pkls.Count != 1)
            throw Bad(path, pkls.Count == 0
                ? $"no '<folder>/data.pkl' entry (entries: {string.Join(", ", zip.Entries.Take(10).Select(e => e.FullName))}{(zip.Entries.Count > 10 ? ", ..." : "")})"
                : $"{pkls.Count} '<folder>/data.pkl' entries ({string.Join(", ", pkls.Select(e => e.FullName))}); expected one");
        var pklEntry = pkls[0];
        string prefix = pklEntry.FullName[..^"data.pkl".Length];
        var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var e in zip.Entries) entries.TryAdd(e.FullName, e);

        if (entries.TryGetValue(prefix + "byteorder", out var bo))
        {
            string order = Encoding.ASCII.GetString(ReadEntry(bo, path, 64)).Trim();
            if (order != "little") throw Bad(path, $"{bo.FullName} says '{order}'; only little-endian checkpoints are supported");
        }

        byte[] pkl = ReadEntry(pklEntry, path, MaxPickleBytes);
        var storages = new Dictionary<string, (PickleStorage Storage, ZipArchiveEntry Entry)>(StringComparer.Ordinal);
        PickleStorage Resolve(PickleGlobal type, string key, string location, long numel)
        {
            if (key.Length == 0 || key.Length > 64 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') || key.Contains(".."))
                throw new PyTorchCheckpointException($"storage key '{key}' is not a plain entry name");
            if (storages.TryGetValue(key, out var known))
            {
                if (known.Storage.DType != type.StorageType || known.Storage.Numel != numel)
                    throw new PyTorchCheckpointException($"storage '{key}' is named twice with different types or sizes");
                return known.Storage;
            }
            string name = prefix + "data/" + key;
            if (!entries.TryGetValue(name, out var entry)) throw new PyTorchCheckpointException($"storage '{key}' has no entry '{name}' in the archive");
            long elem = ElementSize(type.StorageType);
            long bytes;
            try { bytes = checked(numel * elem); }
            catch (OverflowException) { throw new PyTorchCheckpointException($"storage '{key}' numel {numel} overflows"); }
            if (entry.Length != bytes)
                throw new PyTorchCheckpointException($"storage '{key}' ({type.Name}, {numel} elements = {bytes} bytes) but entry '{name}' holds {entry.Length} bytes");
            if (entry.CompressedLength > fileLength) throw new PyTorchCheckpointException($"entry '{name}' claims more bytes than the file has");
            var s = new PickleStorage(key, type.StorageType, numel, location);
            storages[key] = (s, entry);
            return s;
        }

        var unpickler = new RestrictedUnpickler(pkl, $"{path}: {pklEntry.FullName}", Resolve);
        object? root = unpickler.Load();
        if (root is not PickleDict dict)
            throw Bad(path, $"{pklEntry.FullName} holds a {(root is null ? "None" : root.GetType().Name)}, not a state dict (a dict of tensors)");
        var specs = new List<(string Key, PickleTensor Spec)>();
        foreach (var (key, value) in dict.Items)
        {
            if (value is not PickleTensor spec)
                throw Bad(path, $"entry '{key}' of the state dict is not a tensor (a nested checkpoint such as {{'model': state_dict}}? extract the state dict first)");
            CheckView(path, key, spec);
            specs.Add((key, spec));
        }
        return (specs, storages);
    }

    /// <summary>Checks that a view (offset, size, stride) stays inside its storage, with overflow-checked arithmetic.</summary>
    private static void CheckView(string path, string key, PickleTensor t)
    {
        string where = $"tensor '{key}'";
        if (t.Size.Length != t.Stride.Length) throw Bad(path, $"{where} has {t.Size.Length} sizes but {t.Stride.Length} strides");
        if (t.Offset < 0) throw Bad(path, $"{where} has negative storage offset {t.Offset}");
        if (t.Size.Any(s => s < 0) || t.Stride.Any(s => s < 0)) throw Bad(path, $"{where} has a negative size or stride");
        try
        {
            long numel = 1, span = 1, last = t.Offset;
            for (int i = 0; i < t.Size.Length; i++)
            {
                numel = checked(numel * t.Size[i]);
                span = checked(span * Math.Max(t.Size[i], 1));
                if (t.Size[i] > 0) last = checked(last + (t.Size[i] - 1) * t.Stride[i]);
            }
            _ = checked(span * ElementSize(t.Storage.DType));
            if (numel > 0 && last >= t.Storage.Numel)
                throw Bad(path, $"{where} (offset {t.Offset}, size [{string.Join(", ", t.Size)}], stride [{string.Join(", ", t.Stride)}]) reads element {last} of storage '{t.Storage.Key}', which has {t.Storage.Numel}");
        }
        catch (OverflowException) { throw Bad(path, $"{where} has size/stride/offset values that overflow"); }
    }

    private static Dictionary<string, Tensor> Materialise(string path, List<(string Key, PickleTensor Spec)> specs,
        Dictionary<string, (PickleStorage Storage, ZipArchiveEntry Entry)> storages)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var loaded = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var uses = specs.GroupBy(s => s.Spec.Storage.Key).ToDictionary(g => g.Key, g => g.Count());
        try
        {
            foreach (var (key, spec) in specs)
            {
                if (spec.Size.Any(s => s == 0)) { result[key] = torch.empty(spec.Size, spec.Storage.DType); continue; }
                if (!loaded.TryGetValue(spec.Storage.Key, out var storage))
                {
                    var (s, entry) = storages[spec.Storage.Key];
                    storage = torch.empty(s.Numel, s.DType);
                    ReadStorage(entry, storage, path);
                    loaded[s.Key] = storage;
                }
                bool whole = spec.Offset == 0 && spec.Size.Aggregate(1L, (a, b) => a * b) == spec.Storage.Numel
                             && IsContiguous(spec.Size, spec.Stride) && uses[spec.Storage.Key] == 1;
                if (whole) { result[key] = storage.view(spec.Size); continue; }
                using var v = storage.as_strided(spec.Size, spec.Stride, spec.Offset);
                result[key] = v.contiguous().clone(); // independent of the (possibly larger, shared) storage
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose(); // views keep the data alive through libtorch's refcount
        }
        return result;
    }

    private static bool IsContiguous(long[] size, long[] stride)
    {
        long expect = 1;
        for (int i = size.Length - 1; i >= 0; i--)
        {
            if (size[i] != 1 && stride[i] != expect) return false;
            expect *= size[i];
        }
        return true;
    }

    private static void ReadStorage(ZipArchiveEntry entry, Tensor storage, string path)
    {
        using var s = entry.Open();
        long total = storage.numel() * storage.element_size();
        long elem = storage.element_size();
        long perChunk = (1L << 30) / elem;
        long n = storage.numel();
        for (long start = 0; start < n; start += perChunk)
        {
            using var part = storage.narrow(0, start, Math.Min(perChunk, n - start));
            var span = part.bytes;
            int got = s.ReadAtLeast(span, span.Length, throwOnEndOfStream: false);
            if (got != span.Length) throw Bad(path, $"entry '{entry.FullName}' ends after {start * elem + got} of {total} bytes");
        }
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry, string path, long max)
    {
        if (entry.Length > max) throw Bad(path, $"entry '{entry.FullName}' is {entry.Length} bytes, over the {max}-byte limit");
        var buf = new byte[entry.Length];
        using var s = entry.Open();
        int got = s.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false);
        if (got != buf.Length) throw Bad(path, $"entry '{entry.FullName}' ends after {got} of {buf.Length} bytes");
        return buf;
    }

    private static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        _ => 1,
    };

    private static PyTorchCheckpointException Bad(string path, string what) => new($"{path}: malformed PyTorch checkpoint: {what}.");
}
