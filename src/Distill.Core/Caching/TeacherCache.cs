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

    /// <summary>True when this cache was (re)built by <see cref="OpenOrBuild"/> rather than reused.</summary>
    public bool Built { get; private init; }

    /// <summary>Why it was built: "no cache yet", or the components whose hashes changed.</summary>
    public string? BuildReason { get; private init; }

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
        TeacherNeeds needs, TeacherCacheSpec spec, int batchSize, Device device)
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
        var manifest = Build(dir, key, teacher, train, needs, spec, batchSize, device);
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
        TeacherNeeds needs, TeacherCacheSpec spec, int batchSize, Device device)
    {
        var clock = Stopwatch.StartNew();
        string full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        string tmp = $"{full}.building-{Environment.ProcessId}";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        var streams = new Dictionary<string, FileStream>(StringComparer.Ordinal);
        var entries = new List<CacheEntry>();
        var lengths = new List<int>(train.Count);
        bool anyTokenEntry = false;
        bool wasTraining = teacher.training, hadAttentions = teacher.OutputAttentions;
        using var taps = FeatureTaps.Attach(teacher, needs.Taps);
        try
        {
            teacher.eval();
            teacher.OutputAttentions = needs.AttentionLayers.Count > 0;
            int hiddenCount = 0, attentionCount = 0;
            var order = Enumerable.Range(0, train.Count).ToArray();
            for (int start = 0; start < train.Count; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                using var noGrad = torch.no_grad();
                int n = Math.Min(batchSize, train.Count - start);
                var batch = train.GetBatch(order.AsSpan(start, n)).To(device);
                var output = teacher.call(batch);
                hiddenCount = output.HiddenStates.Count;
                attentionCount = output.Attentions.Count;
                // Real tokens only when no term reads padded positions; otherwise fixed shapes, as fixed-length padding gives.
                var batchLengths = needs.PaddedTokenReaders.Count == 0 ? RealTokens(batch, start) : null;
                if (batchLengths is not null) lengths.AddRange(batchLengths);
                foreach (var (name, tensor) in Selected(output, taps.Features, needs))
                {
                    int[]? tokenAxes = batchLengths is null ? null : TokenAxesOf(name, tensor, batch["attention_mask"].shape[1]);
                    long[] shape = tensor.shape[1..];
                    if (tokenAxes is not null) foreach (int axis in tokenAxes) shape[axis] = -1;
                    var entry = entries.FirstOrDefault(e => e.Name == name);
                    if (entry is null)
                    {
                        entry = new CacheEntry
                        {
                            Name = name, Shape = shape, TokenAxes = tokenAxes, File = FileName(name, entries.Count),
                            Parts = tokenAxes is null ? CacheCodec.Parts(name, shape, spec.Encoding, spec.TopK) : [],
                        };
                        anyTokenEntry |= tokenAxes is not null;
                        entries.Add(entry);
                        streams[name] = new FileStream(Path.Combine(tmp, entry.File), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                    }
                    else if (!entry.Shape.SequenceEqual(shape) || (entry.TokenAxes is null) != (tokenAxes is null))
                    {
                        string fix = needs.PaddedTokenReaders.Count > 0 && (name.StartsWith("hidden:", StringComparison.Ordinal) || name.StartsWith("attention:", StringComparison.Ordinal))
                            ? $"Loss term(s) {string.Join(", ", needs.PaddedTokenReaders.Select(t => $"'{t}'"))} compare padded positions too, so the " +
                              "cache cannot store the real tokens alone; set mask_padding: true on those hidden_mse terms (padded tokens left out of " +
                              "the mean), pad every example to one length, or remove distill.cache."
                            : "Text hidden states and attention maps are stored at each example's token count (−1 above), but other outputs " +
                              "(module taps, audio frames) need one shape: read hidden states instead of a tapped module, pad to one length, or remove distill.cache.";
                        throw new TeacherCacheException(
                            $"distill.cache: the teacher's '{name}' output is ({string.Join(", ", entry.Shape)}) per example in one batch and " +
                            $"({string.Join(", ", shape)}) in another (text batches are padded to their longest example). {fix}");
                    }
                    if (entry.TokenAxes is null)
                        WriteRecords(streams[name], CacheCodec.Encode(tensor, entry, spec.Encoding, spec.TopK), entry, n);
                    else
                        WriteTokenRecords(streams[name], tensor, entry, batchLengths!, spec);
                }
            }
            foreach (var s in streams.Values) s.Dispose();
            streams.Clear();
            if (anyTokenEntry)
            {
                var bytes = new byte[4 * lengths.Count];
                for (int i = 0; i < lengths.Count; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), lengths[i]);
                File.WriteAllBytes(Path.Combine(tmp, TokenLengthsFile), bytes);
            }
            var manifest = new CacheManifest
            {
                Count = train.Count, Encoding = spec.Encoding, TopK = spec.TopK, Key = key, Entries = entries,
                HiddenStates = hiddenCount, Attentions = attentionCount, BuildSeconds = clock.Elapsed.TotalSeconds,
            };
            manifest.Write(tmp);
            Replace(full, tmp);
            return manifest;
        }
        catch
        {
            foreach (var s in streams.Values) s.Dispose();
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            throw;
        }
        finally
        {
            teacher.OutputAttentions = hadAttentions;
            teacher.train(wasTraining);
        }
    }

    /// <summary>
    /// Each example's real tokens (the attention mask's row sums) when the batch is text with a (B, T) mask; null otherwise.
    /// The mask must mark a prefix (padding on the right, as the tokenizer pads), else the real tokens are not a prefix to store.
    /// </summary>
    private static int[]? RealTokens(Batch batch, int start)
    {
        if (batch.Optional("attention_mask") is not { } mask || mask.dim() != 2 || !batch.Inputs.ContainsKey("input_ids")) return null;
        var m = mask.cpu().to(ScalarType.Int64);                                                   // (B, T)
        var lengths = m.sum(1);                                                                    // (B)
        var prefix = torch.arange(m.shape[1]).unsqueeze(0) < lengths.unsqueeze(1);                 // (B, T): the first ℓ_b positions
        if (!m.eq(prefix.to(ScalarType.Int64)).all().item<bool>())
            throw new TeacherCacheException(
                $"distill.cache: the attention_mask of training examples {start}..{start + m.shape[0] - 1} is not 1s followed by 0s " +
                "(left padding, or gaps), so the real tokens are not a prefix to store; pad on the right, or remove distill.cache.");
        return [.. lengths.data<long>().Select(l => checked((int)l))];
    }

    /// <summary>Token axes of a per-example output: (T, D) hidden states → [0]; (heads, T, T) attention maps → [1, 2]; others none.</summary>
    private static int[]? TokenAxesOf(string name, Tensor tensor, long tokens)
    {
        if (name.StartsWith("hidden:", StringComparison.Ordinal) && tensor.dim() == 3 && tensor.shape[1] == tokens) return [0];
        if (name.StartsWith("attention:", StringComparison.Ordinal) && tensor.dim() == 4 && tensor.shape[2] == tokens && tensor.shape[3] == tokens) return [1, 2];
        return null;
    }

    /// <summary>Writes each example of a token entry's batch (B, ...) cut to its real tokens, in example order.</summary>
    private static void WriteTokenRecords(FileStream stream, Tensor batch, CacheEntry entry, int[] lengths, TeacherCacheSpec spec)
    {
        for (int b = 0; b < lengths.Length; b++)
        {
            var one = entry.AtLength(lengths[b], spec.Encoding, spec.TopK);
            var x = batch.narrow(0, b, 1);                                                   // (1, ...shape at T)
            foreach (int axis in entry.TokenAxes!) x = x.narrow(axis + 1, 0, lengths[b]);    // (1, ...shape at ℓ_b)
            WriteRecords(stream, CacheCodec.Encode(x.contiguous(), one, spec.Encoding, spec.TopK), one, 1);
        }
    }

    /// <summary>The tensors to store, in a fixed order: logits, taps, hidden states, attention maps.</summary>
    private static IEnumerable<(string Name, Tensor Tensor)> Selected(ModelOutput output, IReadOnlyDictionary<string, Tensor> features, TeacherNeeds needs)
    {
        yield return ("logits", output.Logits);
        foreach (var path in needs.Taps)
            yield return ($"tap:{path}", features.TryGetValue(path, out var f) ? f : throw new TeacherCacheException(
                $"distill.cache: the teacher module '{path}' produced no output (it must be called through .call so its hook fires)."));
        foreach (int i in needs.HiddenLayers)
            yield return ($"hidden:{i}", i < output.HiddenStates.Count ? output.HiddenStates[i] : throw new TeacherCacheException(
                $"distill.cache: the loss terms read teacher hidden state {i}, but the teacher returned {output.HiddenStates.Count}."));
        foreach (int i in needs.AttentionLayers)
            yield return ($"attention:{i}", i < output.Attentions.Count ? output.Attentions[i] : throw new TeacherCacheException(
                $"distill.cache: the loss terms read teacher attention map {i + 1}, but the teacher returned {output.Attentions.Count}."));
    }

    private static string FileName(string name, int index)
    {
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_').ToArray());
        return $"{index:D2}-{safe}.bin";
    }

    private static void WriteRecords(FileStream stream, List<Tensor> parts, CacheEntry entry, int n)
    {
        var record = new byte[entry.RecordBytes * n];
        long offset = 0;
        for (int j = 0; j < parts.Count; j++)
        {
            long pb = entry.Parts[j].Bytes;
            var src = parts[j].bytes;
            if (src.Length != pb * n)
                throw new InvalidOperationException($"Teacher cache: part '{entry.Parts[j].Name}' of '{entry.Name}' encoded to {src.Length} bytes, expected {pb * n}.");
            for (int i = 0; i < n; i++)
                src.Slice((int)(i * pb), (int)pb).CopyTo(record.AsSpan((int)(i * entry.RecordBytes + offset), (int)pb));
            offset += pb;
        }
        stream.Write(record);
    }

    /// <summary>Moves the finished folder into place. An existing folder is replaced only if it holds nothing but a cache.</summary>
    private static void Replace(string dir, string tmp)
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
