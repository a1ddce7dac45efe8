using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using Distill.Data;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Caching;

/// <summary>
/// A built teacher-output cache, memory-mapped read-only: <see cref="Lookup"/> gathers the records of a batch's examples
/// (by the <see cref="IndexInput"/> input that <see cref="IndexedDataset"/> adds) and decodes them to float32 tensors.
/// The operating system pages the files in and out, so the process holds only what recent batches touched.
/// Folder layout: <c>manifest.json</c> (<see cref="CacheManifest"/>), one <c>.bin</c> file per <see cref="CacheEntry"/>,
/// and, when text hidden states or attention maps are stored, <c>token_lengths.bin</c> (int32 per example: its real
/// tokens, the attention mask's sum). Text batches are padded to their longest example, so the same example has a
/// different padded length in every batch; storing the real tokens only and padding with zeros on lookup serves any
/// batch, and is exact for terms that leave padded positions out (<see cref="Distill.Losses.TeacherReads.ReadsPaddedTokens"/>).
/// </summary>
public sealed unsafe class TeacherCache : IDisposable
{
    /// <summary>Name of the batch input holding each example's index in the training set (int64, (B)).</summary>
    public const string IndexInput = "example_index";

    /// <summary>File of each example's token count (int32, little-endian), present when a token entry is.</summary>
    public const string TokenLengthsFile = "token_lengths.bin";

    private readonly MemoryMappedFile[] _files;
    private readonly MemoryMappedViewAccessor[] _views;
    private readonly byte*[] _pointers;
    private readonly long[]?[] _offsets; // per token entry: byte offset of each example's record (Count + 1 values)
    private readonly int[]? _lengths;
    private bool _disposed;

    private TeacherCache(string dir, CacheManifest manifest)
    {
        Dir = dir;
        Manifest = manifest;
        int n = manifest.Entries.Count;
        _files = new MemoryMappedFile[n];
        _views = new MemoryMappedViewAccessor[n];
        _pointers = new byte*[n];
        _offsets = new long[]?[n];
        try
        {
            if (manifest.Entries.Any(e => e.TokenAxes is not null)) _lengths = ReadLengths(dir, manifest.Count);
            for (int i = 0; i < n; i++)
            {
                var entry = manifest.Entries[i];
                string path = Path.Combine(dir, entry.File);
                long expected;
                string promise;
                if (entry.TokenAxes is null)
                {
                    expected = manifest.Count * entry.RecordBytes;
                    promise = $"{manifest.Count} records of {entry.RecordBytes} bytes";
                }
                else
                {
                    var offsets = new long[manifest.Count + 1];
                    for (int j = 0; j < manifest.Count; j++)
                        offsets[j + 1] = offsets[j] + entry.AtLength(_lengths![j], manifest.Encoding, manifest.TopK).RecordBytes;
                    _offsets[i] = offsets;
                    expected = offsets[^1];
                    promise = $"{manifest.Count} records at the token counts of {TokenLengthsFile}";
                }
                long actual = File.Exists(path) ? new FileInfo(path).Length : -1;
                if (actual != expected)
                    throw new TeacherCacheException(
                        $"{path}: {(actual < 0 ? "missing" : $"{actual} bytes")}, but the manifest promises {promise} " +
                        $"({expected} bytes). The cache is incomplete or damaged; delete {dir} to rebuild it.");
                DataBytes += expected;
                _files[i] = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
                _views[i] = _files[i].CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                byte* p = null;
                _views[i].SafeMemoryMappedViewHandle.AcquirePointer(ref p);
                _pointers[i] = p + _views[i].PointerOffset;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Dir { get; }

    public CacheManifest Manifest { get; }

    /// <summary>True when this cache was (re)built by <c>OpenOrBuild</c> rather than reused.</summary>
    public bool Built { get; private init; }

    /// <summary>Why it was built: "no cache yet", or the components whose hashes changed.</summary>
    public string? BuildReason { get; private init; }

    /// <summary>True when <c>OpenOrBuild</c> merged shards (built by other processes) instead of running the teacher.</summary>
    public bool Merged { get; private init; }

    /// <summary>Seconds spent building (hashing excluded); 0 when reused.</summary>
    public double BuildSeconds { get; private init; }

    /// <summary>Total bytes of the data files.</summary>
    public long DataBytes { get; }

    private static int[] ReadLengths(string dir, int count)
    {
        string path = Path.Combine(dir, TokenLengthsFile);
        long actual = File.Exists(path) ? new FileInfo(path).Length : -1;
        if (actual != 4L * count)
            throw new TeacherCacheException(
                $"{path}: {(actual < 0 ? "missing" : $"{actual} bytes")}, but the manifest promises {count} token counts ({4L * count} bytes). " +
                $"The cache is incomplete or damaged; delete {dir} to rebuild it.");
        var lengths = new int[count];
        var bytes = File.ReadAllBytes(path);
        for (int i = 0; i < count; i++)
        {
            lengths[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i));
            if (lengths[i] < 0)
                throw new TeacherCacheException($"{path}: example {i} has a negative token count ({lengths[i]}); delete {dir} to rebuild the cache.");
        }
        return lengths;
    }

    /// <summary>Opens a finished cache folder (one with a manifest) and maps its files.</summary>
    public static TeacherCache Open(string dir) =>
        new(dir, CacheManifest.TryRead(dir) ?? throw new TeacherCacheException($"{dir} holds no teacher cache ({CacheManifest.FileName} is missing)."));

    /// <summary>
    /// Reuses the cache in <paramref name="dir"/> when its hashes equal <paramref name="key"/>; otherwise runs the teacher
    /// (eval mode, no gradients) over every example of <paramref name="train"/> in index order and writes a new one.
    /// </summary>
    public static TeacherCache OpenOrBuild(string dir, TeacherCacheKey key, DistillModel teacher, IDataset train,
        TeacherNeeds needs, TeacherCacheSpec spec, int batchSize, Device device) =>
        OpenOrBuild(dir, key, teacher, train, needs, spec, new CacheBuildSettings(batchSize), device);

    /// <summary>
    /// Reuses the cache in <paramref name="dir"/> when its hashes equal <paramref name="key"/>; else merges the shards in
    /// <see cref="CacheShards.Folder"/> when there are any (an incomplete or stale set is an error naming the fix);
    /// else builds it (<see cref="CacheBuildSettings"/>).
    /// </summary>
    public static TeacherCache OpenOrBuild(string dir, TeacherCacheKey key, DistillModel teacher, IDataset train,
        TeacherNeeds needs, TeacherCacheSpec spec, CacheBuildSettings settings, Device device)
    {
        string reason = "no cache yet";
        if (CacheManifest.TryRead(dir) is { } existing)
        {
            var diff = existing.Version != TeacherCacheKey.FormatVersion ? ["cache format version"] : key.Differences(existing.Key).ToList();
            if (diff.Count == 0 && existing.Count == train.Count)
            {
                try
                {
                    return new TeacherCache(dir, existing);
                }
                catch (TeacherCacheException e)
                {
                    reason = e.Message;
                }
            }
            else
            {
                reason = diff.Count > 0 ? "changed: " + string.Join(", ", diff) : $"{existing.Count} examples cached, {train.Count} now";
            }
        }
        var clock = Stopwatch.StartNew();
        if (CacheShards.Any(dir))
        {
            var merged = CacheShards.Merge(dir, key, train.Count);
            return new TeacherCache(dir, merged)
            {
                Built = true, BuildReason = $"merged {CacheShards.Folder(dir)} ({reason})", BuildSeconds = clock.Elapsed.TotalSeconds, Merged = true,
            };
        }
        var manifest = Build(dir, key, teacher, train, needs, spec, settings, device);
        return new TeacherCache(dir, manifest) { Built = true, BuildReason = reason, BuildSeconds = clock.Elapsed.TotalSeconds };
    }

    /// <summary>
    /// Refuses data whose batches are not a pure function of the example indices: a dataset that declares augmentation
    /// (<see cref="IAugmentingDataset"/>), or one whose first examples read twice differ in any input byte.
    /// </summary>
    public static void EnsureDeterministic(IDataset data)
    {
        const string fix = "Turn the augmentation off, or remove distill.cache to run the teacher on every batch.";
        if (data is IAugmentingDataset { Augmentation: { } augmentation })
            throw new TeacherCacheException(
                $"distill.cache cannot be used with data augmentation ({augmentation}): the cache stores one teacher output per " +
                $"example, but augmentation shows the teacher a different input every epoch. {fix}");
        using var scope = torch.NewDisposeScope();
        int[] picks = Enumerable.Range(0, Math.Min(4, data.Count)).ToArray();
        var first = data.GetBatch(picks);
        var second = data.GetBatch(picks);
        foreach (var (name, a) in first.Inputs)
        {
            var b = second.Optional(name);
            if (b is null || !a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype || !a.cpu().contiguous().bytes.SequenceEqual(b.cpu().contiguous().bytes))
                throw new TeacherCacheException(
                    $"distill.cache needs the same input for an example every time it is read, but reading training examples " +
                    $"[{string.Join(", ", picks)}] twice gave different '{name}' tensors (random augmentation or non-deterministic " +
                    $"pre-processing). {fix}");
        }
    }

    /// <summary>The cached teacher outputs of the batch's examples (by its <see cref="IndexInput"/>), as float32 on <paramref name="device"/>.</summary>
    public CachedTeacherOutput Lookup(Batch batch, Device device)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var indexTensor = batch.Optional(IndexInput) ?? throw new InvalidOperationException(
            $"The batch has no '{IndexInput}' input: with distill.cache the training data must be wrapped in {nameof(IndexedDataset)}.");
        var indices = indexTensor.cpu().to(ScalarType.Int64).data<long>().ToArray();
        foreach (long i in indices)
            if (i < 0 || i >= Manifest.Count)
                throw new InvalidOperationException(
                    $"Teacher cache {Dir} holds {Manifest.Count} examples but the batch asks for example {i}: the cache was built for another training set.");

        Tensor? logits = null;
        var hidden = new Dictionary<int, Tensor>();
        var attentions = new Dictionary<int, Tensor>();
        var features = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        long? tokens = _lengths is null ? null : TokensOf(batch, indices);
        for (int e = 0; e < Manifest.Entries.Count; e++)
        {
            var entry = Manifest.Entries[e];
            var decoded = (entry.TokenAxes is null
                ? CacheCodec.Decode(Gather(e, entry, indices), entry, Manifest.Encoding, Manifest.TopK)
                : GatherTokens(e, entry, indices, tokens!.Value)).to(device);
            int colon = entry.Name.IndexOf(':');
            string kind = colon < 0 ? entry.Name : entry.Name[..colon], arg = colon < 0 ? "" : entry.Name[(colon + 1)..];
            switch (kind)
            {
                case "logits": logits = decoded; break;
                case "tap": features[arg] = decoded; break;
                case "hidden": hidden[int.Parse(arg, System.Globalization.CultureInfo.InvariantCulture)] = decoded; break;
                case "attention": attentions[int.Parse(arg, System.Globalization.CultureInfo.InvariantCulture)] = decoded; break;
                default: throw new TeacherCacheException($"{Path.Combine(Dir, CacheManifest.FileName)}: unknown entry '{entry.Name}'.");
            }
        }
        var output = new ModelOutput(logits ?? throw new TeacherCacheException($"{Dir}: the cache has no logits entry."))
        {
            HiddenStates = new KeptLayers(Manifest.HiddenStates, hidden, "hidden state"),
            Attentions = new KeptLayers(Manifest.Attentions, attentions, "attention map"),
        };
        return new CachedTeacherOutput(output, features);
    }

    /// <summary>The batch's padded token count T (its attention_mask's width), checked to hold every example's real tokens.</summary>
    private long TokensOf(Batch batch, long[] indices)
    {
        var mask = batch.Optional("attention_mask");
        if (mask is null || mask.dim() != 2)
            throw new InvalidOperationException(
                $"Teacher cache {Dir} stores text outputs at each example's token count, so the batch needs a (B, T) attention_mask; " +
                $"it has [{string.Join(", ", batch.Inputs.Keys)}].");
        long t = mask.shape[1];
        foreach (long i in indices)
            if (_lengths![i] > t)
                throw new InvalidOperationException(
                    $"Teacher cache {Dir}: example {i} had {_lengths[i]} real tokens when the cache was built, but this batch is padded to {t}: " +
                    "the cache was built with other pre-processing; delete it to rebuild.");
        return t;
    }

    /// <summary>A token entry for the batch: each example's record decoded at its length, zero-padded to <paramref name="tokens"/> (B, ...shape with T).</summary>
    private Tensor GatherTokens(int entryIndex, CacheEntry entry, long[] indices, long tokens)
    {
        byte* basePtr = _pointers[entryIndex];
        var offsets = _offsets[entryIndex]!;
        long[] shape = [.. entry.Shape];
        foreach (int axis in entry.TokenAxes!) shape[axis] = tokens;
        var output = torch.zeros([indices.Length, .. shape]);                                  // (B, ...shape at T)
        for (int b = 0; b < indices.Length; b++)
        {
            long i = indices[b];
            var one = entry.AtLength(_lengths![i], Manifest.Encoding, Manifest.TopK);
            long partOffset = offsets[i];
            var parts = new List<Tensor>(one.Parts.Count);
            foreach (var part in one.Parts)
            {
                var t = torch.empty([1, .. part.Shape], CacheCodec.ScalarTypeOf(part.DType)); // (1, ...part shape)
                new ReadOnlySpan<byte>(basePtr + partOffset, checked((int)part.Bytes)).CopyTo(t.bytes);
                parts.Add(t);
                partOffset += part.Bytes;
            }
            var target = output[b];                                                              // (...shape at T)
            foreach (int axis in entry.TokenAxes) target = target.narrow(axis, 0, _lengths[i]);  // the real tokens
            target.copy_(CacheCodec.Decode(parts, one, Manifest.Encoding, Manifest.TopK)[0]);
        }
        return output;
    }

    private List<Tensor> Gather(int entryIndex, CacheEntry entry, long[] indices)
    {
        byte* basePtr = _pointers[entryIndex];
        long record = entry.RecordBytes, partOffset = 0;
        var parts = new List<Tensor>(entry.Parts.Count);
        foreach (var part in entry.Parts)
        {
            var t = torch.empty([indices.Length, .. part.Shape], CacheCodec.ScalarTypeOf(part.DType)); // (B, ...part shape)
            int bytes = checked((int)part.Bytes);
            var dst = t.bytes;
            for (int i = 0; i < indices.Length; i++)
                new ReadOnlySpan<byte>(basePtr + indices[i] * record + partOffset, bytes).CopyTo(dst.Slice(i * bytes, bytes));
            parts.Add(t);
            partOffset += part.Bytes;
        }
        return parts;
    }

    private static CacheManifest Build(string dir, TeacherCacheKey key, DistillModel teacher, IDataset train,
        TeacherNeeds needs, TeacherCacheSpec spec, CacheBuildSettings settings, Device device)
    {
        string full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        string tmp = $"{full}.building-{Environment.ProcessId}";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        try
        {
            var written = TeacherCacheBuilder.Build(tmp, teacher, train, needs, spec, settings, 0, train.Count, device, "");
            var manifest = new CacheManifest
            {
                Count = train.Count, Encoding = spec.Encoding, TopK = spec.TopK, Key = key, Entries = written.Entries,
                HiddenStates = written.HiddenStates, Attentions = written.Attentions, BuildSeconds = written.Seconds,
                BuildExamplesPerSecond = written.Seconds > 0 ? train.Count / written.Seconds : null,
            };
            manifest.Write(tmp);
            Replace(full, tmp);
            return manifest;
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            throw;
        }
    }

    /// <summary>Moves the finished folder into place. An existing folder is replaced only if it holds nothing but a cache.</summary>
    internal static void Replace(string dir, string tmp)
    {
        if (Directory.Exists(dir))
        {
            var foreign = Directory.EnumerateFileSystemEntries(dir)
                .Where(p => Path.GetFileName(p) != CacheManifest.FileName && !p.EndsWith(".bin", StringComparison.Ordinal)).ToList();
            if (foreign.Count > 0)
                throw new TeacherCacheException(
                    $"distill.cache.dir {dir} holds files that are not a teacher cache ({Path.GetFileName(foreign[0])}); " +
                    "give the cache a folder of its own.");
            Directory.Delete(dir, recursive: true);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        Directory.Move(tmp, dir);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int i = 0; i < _views.Length; i++)
        {
            if (_views[i] is null) continue;
            if (_pointers[i] != null) _views[i].SafeMemoryMappedViewHandle.ReleasePointer();
            _views[i].Dispose();
            _files[i]?.Dispose();
        }
    }
}
