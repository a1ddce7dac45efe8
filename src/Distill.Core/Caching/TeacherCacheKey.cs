using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Distill.Data;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Caching;

/// <summary>
/// What a teacher-output cache was built from, as SHA-256 hex digests; a cache is valid only while all five match.
/// <list type="bullet">
/// <item><c>Teacher</c>: family, config and every state-dict tensor (name, dtype, shape, bytes — BatchNorm statistics included).</item>
/// <item><c>Data</c>: dataset key, split, example count, <c>train_limit</c> and its seed, and the content of every file under <c>data.path</c>.</item>
/// <item><c>Preprocessing</c>: <c>data.preprocessing</c>, <c>max_length</c> and the tokenizer folder's files.</item>
/// <item><c>Inputs</c>: the pre-processed tensors of up to 16 evenly spaced training examples — catches a change in the
/// pre-processing code itself, which no setting records.</item>
/// <item><c>Layout</c>: cache format version, encoding, top-k and the teacher outputs stored.</item>
/// </list>
/// </summary>
public sealed record TeacherCacheKey(string Teacher, string Data, string Preprocessing, string Inputs, string Layout)
{
    /// <summary>Bumped whenever the on-disk format changes.</summary>
    public const int FormatVersion = 2; // 2: text hidden states and attention maps stored at each example's token count

    /// <summary>Names of the components that differ from <paramref name="other"/>, with what each covers.</summary>
    public IReadOnlyList<string> Differences(TeacherCacheKey other)
    {
        var diff = new List<string>();
        if (Teacher != other.Teacher) diff.Add("teacher weights");
        if (Data != other.Data) diff.Add("training data");
        if (Preprocessing != other.Preprocessing) diff.Add("pre-processing settings");
        if (Inputs != other.Inputs) diff.Add("pre-processed inputs");
        if (Layout != other.Layout) diff.Add("cached outputs (encoding, top_k or loss terms)");
        return diff;
    }

    /// <summary>Hashes everything the cache depends on.</summary>
    public static TeacherCacheKey Compute(DistillModel teacher, IDataset train, TeacherCacheData data,
        TeacherNeeds needs, CacheEncoding encoding, int? topK) => new(
        HashTeacher(teacher),
        HashData(data, train.Count),
        HashPreprocessing(data),
        HashInputs(train),
        // Whether text may be stored at its real tokens is part of the layout: an unmasked term must not reuse such a cache.
        HashText($"v{FormatVersion}|{encoding}|top_k={topK?.ToString() ?? "all"}|{needs}|tokens={(needs.PaddedTokenReaders.Count == 0 ? "real" : "padded")}"));

    public static string HashTeacher(DistillModel teacher)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Add(h, teacher.Family);
        Add(h, JsonSerializer.Serialize(teacher.Config, teacher.Config.GetType()));
        foreach (var (name, tensor) in teacher.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Add(h, $"{name}|{tensor.dtype}|{string.Join(",", tensor.shape)}");
            AddTensor(h, tensor);
        }
        return Hex(h);
    }

    public static string HashData(TeacherCacheData data, int count)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Add(h, $"{data.Dataset}|{data.Split}|{count}|limit={data.TrainLimit?.ToString() ?? "all"}|seed={(data.TrainLimit is null ? 0 : data.LimitSeed)}");
        // Only with a transfer set, so that every other cache keeps its hash. Its rows depend on the seed even without a limit.
        if (data.Transfer is { } transfer) Add(h, $"transfer={transfer}|seed={data.LimitSeed}");
        AddFolder(h, data.Path);
        return Hex(h);
    }

    public static string HashPreprocessing(TeacherCacheData data)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Add(h, data.PreprocessingJson);
        Add(h, $"max_length={data.MaxLength}");
        if (data.Tokenizer is { } tok) AddFolder(h, tok);
        return Hex(h);
    }

    /// <summary>SHA-256 of the pre-processed tensors (and labels) of up to 16 evenly spaced examples.</summary>
    public static string HashInputs(IDataset train)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var scope = torch.NewDisposeScope();
        int n = Math.Min(16, train.Count);
        var picks = Enumerable.Range(0, n).Select(i => (int)((long)i * train.Count / n)).ToArray();
        // One example at a time: padded text batches would otherwise depend on which examples share a batch.
        foreach (int index in picks)
        {
            var batch = train.GetBatch([index]);
            foreach (var (name, tensor) in batch.Inputs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                Add(h, $"{index}|{name}|{tensor.dtype}|{string.Join(",", tensor.shape)}");
                AddTensor(h, tensor);
            }
            if (batch.Labels is { } labels) AddTensor(h, labels);
        }
        return Hex(h);
    }

    public static string HashText(string text)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Add(h, text);
        return Hex(h);
    }

    private static void AddFolder(IncrementalHash h, string folder)
    {
        if (File.Exists(folder)) { AddFile(h, folder, Path.GetFileName(folder)); return; }
        if (!Directory.Exists(folder)) throw new TeacherCacheException($"Teacher cache: data folder '{folder}' does not exist.");
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                     .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
                     .Order(StringComparer.Ordinal))
            AddFile(h, Path.Combine(folder, file), file);
    }

    private static void AddFile(IncrementalHash h, string path, string name)
    {
        Add(h, $"file|{name}|{new FileInfo(path).Length}");
        using var s = File.OpenRead(path);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = s.Read(buffer, 0, buffer.Length)) > 0) h.AppendData(buffer, 0, read);
    }

    private static void AddTensor(IncrementalHash h, Tensor tensor)
    {
        using var scope = torch.NewDisposeScope();
        var t = tensor.detach().cpu().contiguous();
        long total = t.numel() * t.element_size();
        if (total <= int.MaxValue) { h.AppendData(t.bytes); return; }
        var flat = t.flatten();
        long chunk = (1L << 30) / t.element_size();
        for (long start = 0; start < flat.numel(); start += chunk)
            h.AppendData(flat.narrow(0, start, Math.Min(chunk, flat.numel() - start)).contiguous().bytes);
    }

    private static void Add(IncrementalHash h, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        h.AppendData(BitConverter.GetBytes(bytes.Length));
        h.AppendData(bytes);
    }

    private static string Hex(IncrementalHash h) => Convert.ToHexStringLower(h.GetHashAndReset());
}
