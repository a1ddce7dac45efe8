using System.Diagnostics;
using Distill.Data;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Caching;

/// <summary>
/// Runs the teacher (eval mode, no gradients) over examples [from, to) of the training set and writes their records
/// into a folder: one <c>.bin</c> file per <see cref="CacheEntry"/> and, for token entries, <c>token_lengths.bin</c>,
/// all in example order (see <see cref="CacheBuildSettings"/> for the windows and the length buckets). The caller
/// writes the manifest: a whole cache's, or a shard's (<see cref="CacheShards"/>).
/// </summary>
internal static class TeacherCacheBuilder
{
    /// <summary>What a build wrote: its entries (in a fixed order), the teacher's hidden/attention list lengths.</summary>
    public sealed record Written(List<CacheEntry> Entries, int HiddenStates, int Attentions, double Seconds);

    public static Written Build(string folder, DistillModel teacher, IDataset train, TeacherNeeds needs, TeacherCacheSpec spec,
        CacheBuildSettings settings, int from, int to, Device device, string label)
    {
        var clock = Stopwatch.StartNew();
        var streams = new Dictionary<string, FileStream>(StringComparer.Ordinal);
        FileStream? lengthsFile = null;
        var entries = new List<CacheEntry>();
        bool wasTraining = teacher.training, hadAttentions = teacher.OutputAttentions;
        using var taps = FeatureTaps.Attach(teacher, needs.Taps);
        var progress = new Progress(settings, label, to - from);
        try
        {
            teacher.eval();
            teacher.OutputAttentions = needs.AttentionLayers.Count > 0;
            int hiddenCount = 0, attentionCount = 0;
            bool storeRealTokens = needs.PaddedTokenReaders.Count == 0;
            int window = settings.WindowExamples;
            for (int ws = from; ws < to; ws += window)
            {
                int we = Math.Min(to, ws + window);
                int[] order = Enumerable.Range(ws, we - ws).ToArray();
                if (settings.LengthBuckets && TokenCounts(train, order, settings.BatchSize) is { } counts)
                    order = [.. order.OrderBy(i => counts[i - ws]).ThenBy(i => i)]; // stable: ties stay in index order
                var records = new Dictionary<string, byte[][]>(StringComparer.Ordinal);
                int[]? windowLengths = null;
                for (int b = 0; b < order.Length; b += settings.BatchSize)
                {
                    int[] chunk = order[b..Math.Min(order.Length, b + settings.BatchSize)];
                    using var scope = torch.NewDisposeScope();
                    using var noGrad = torch.no_grad();
                    var batch = train.GetBatch(chunk).To(device);
                    var output = teacher.call(batch);
                    hiddenCount = output.HiddenStates.Count;
                    attentionCount = output.Attentions.Count;
                    // Real tokens only when no term reads padded positions; otherwise fixed shapes, as fixed-length padding gives.
                    var batchLengths = storeRealTokens ? RealTokens(batch, chunk) : null;
                    if (batchLengths is not null)
                    {
                        windowLengths ??= new int[we - ws];
                        for (int k = 0; k < chunk.Length; k++) windowLengths[chunk[k] - ws] = batchLengths[k];
                    }
                    foreach (var (name, tensor) in Selected(output, taps.Features, needs))
                    {
                        var entry = EntryFor(entries, streams, folder, name, tensor, batchLengths, batch, needs, spec);
                        if (!records.TryGetValue(name, out var slots)) records[name] = slots = new byte[we - ws][];
                        if (entry.TokenAxes is null)
                        {
                            var parts = CacheCodec.Encode(tensor, entry, spec.Encoding, spec.TopK);
                            for (int k = 0; k < chunk.Length; k++) slots[chunk[k] - ws] = Record(parts, entry, k);
                        }
                        else
                        {
                            for (int k = 0; k < chunk.Length; k++)
                            {
                                var one = entry.AtLength(batchLengths![k], spec.Encoding, spec.TopK);
                                var x = tensor.narrow(0, k, 1);                                                    // (1, ...shape at T)
                                foreach (int axis in entry.TokenAxes) x = x.narrow(axis + 1, 0, batchLengths[k]); // (1, ...shape at ℓ_k)
                                slots[chunk[k] - ws] = Record(CacheCodec.Encode(x.contiguous(), one, spec.Encoding, spec.TopK), one, 0);
                            }
                        }
                    }
                    progress.Add(chunk.Length);
                }
                // The window's records in example order.
                foreach (var entry in entries)
                    foreach (var record in records[entry.Name]) streams[entry.Name].Write(record);
                if (entries.Any(e => e.TokenAxes is not null))
                {
                    lengthsFile ??= new FileStream(Path.Combine(folder, TeacherCache.TokenLengthsFile), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                    var bytes = new byte[4 * (we - ws)];
                    for (int i = 0; i < we - ws; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), windowLengths![i]);
                    lengthsFile.Write(bytes);
                }
            }
            progress.Finish();
            return new Written(entries, hiddenCount, attentionCount, clock.Elapsed.TotalSeconds);
        }
        finally
        {
            foreach (var s in streams.Values) s.Dispose();
            lengthsFile?.Dispose();
            teacher.OutputAttentions = hadAttentions;
            teacher.train(wasTraining);
        }
    }

    /// <summary>
    /// Each example's token count (its attention mask's sum) when the data is text with a (B, T) mask, read in batches
    /// of the window's index order; null for other data (no buckets: images and audio keep their order).
    /// </summary>
    private static int[]? TokenCounts(IDataset train, int[] window, int batchSize)
    {
        var counts = new int[window.Length];
        for (int b = 0; b < window.Length; b += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var batch = train.GetBatch(window.AsSpan(b, Math.Min(batchSize, window.Length - b)));
            if (batch.Optional("attention_mask") is not { } mask || mask.dim() != 2 || !batch.Inputs.ContainsKey("input_ids")) return null;
            var sums = mask.cpu().to(ScalarType.Int64).sum(1).data<long>().ToArray();
            for (int k = 0; k < sums.Length; k++) counts[b + k] = checked((int)sums[k]);
        }
        return counts;
    }

    /// <summary>The entry for <paramref name="name"/>: created (with its file) on the first batch, checked against it on every later one.</summary>
    private static CacheEntry EntryFor(List<CacheEntry> entries, Dictionary<string, FileStream> streams, string folder, string name, Tensor tensor,
        int[]? batchLengths, Batch batch, TeacherNeeds needs, TeacherCacheSpec spec)
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
            entries.Add(entry);
            streams[name] = new FileStream(Path.Combine(folder, entry.File), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
            return entry;
        }
        if (entry.Shape.SequenceEqual(shape) && (entry.TokenAxes is null) == (tokenAxes is null)) return entry;
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

    /// <summary>Example <paramref name="k"/>'s record: its slice of each part, concatenated in part order.</summary>
    private static byte[] Record(List<Tensor> parts, CacheEntry entry, int k)
    {
        var record = new byte[entry.RecordBytes];
        long offset = 0;
        for (int j = 0; j < parts.Count; j++)
        {
            long pb = entry.Parts[j].Bytes;
            var src = parts[j].bytes;
            if (src.Length < (k + 1) * pb)
                throw new InvalidOperationException($"Teacher cache: part '{entry.Parts[j].Name}' of '{entry.Name}' encoded to {src.Length} bytes, too few for record {k} of {pb}.");
            src.Slice((int)(k * pb), (int)pb).CopyTo(record.AsSpan((int)offset, (int)pb));
            offset += pb;
        }
        return record;
    }

    /// <summary>
    /// Each example's real tokens (the attention mask's row sums) when the batch is text with a (B, T) mask; null otherwise.
    /// The mask must mark a prefix (padding on the right, as the tokenizer pads), else the real tokens are not a prefix to store.
    /// </summary>
    private static int[]? RealTokens(Batch batch, int[] examples)
    {
        if (batch.Optional("attention_mask") is not { } mask || mask.dim() != 2 || !batch.Inputs.ContainsKey("input_ids")) return null;
        var m = mask.cpu().to(ScalarType.Int64);                                                   // (B, T)
        var lengths = m.sum(1);                                                                    // (B)
        var prefix = torch.arange(m.shape[1]).unsqueeze(0) < lengths.unsqueeze(1);                 // (B, T): the first ℓ_b positions
        var rows = m.eq(prefix.to(ScalarType.Int64)).all(1).data<bool>().ToArray();
        int bad = Array.IndexOf(rows, false);
        if (bad >= 0)
            throw new TeacherCacheException(
                $"distill.cache: the attention_mask of training example {examples[bad]} is not 1s followed by 0s " +
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

    /// <summary>Progress lines: examples done, examples/s, ETA; every <see cref="CacheBuildSettings.ProgressSeconds"/> and at the end.</summary>
    private sealed class Progress(CacheBuildSettings settings, string label, int total)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private double _lastLine;
        private int _done;

        public void Add(int examples)
        {
            _done += examples;
            if (settings.Progress is null || _done >= total || _clock.Elapsed.TotalSeconds - _lastLine < settings.ProgressSeconds) return;
            _lastLine = _clock.Elapsed.TotalSeconds;
            Write();
        }

        public void Finish()
        {
            if (settings.Progress is not null) Write();
        }

        private void Write()
        {
            double seconds = _clock.Elapsed.TotalSeconds, rate = seconds > 0 ? _done / seconds : 0;
            string eta = rate > 0 && _done < total ? $", ETA {TimeSpan.FromSeconds(Math.Ceiling((total - _done) / rate)):g}" : "";
            settings.Progress!.WriteLine($"[teacher cache] {label}{_done:N0}/{total:N0} examples ({100.0 * _done / Math.Max(1, total):F0} %), {rate:F1} examples/s{eta}");
        }
    }
}
