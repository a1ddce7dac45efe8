using System.Globalization;
using Distill.Checkpoints;
using Distill.Data;
using Distill.Models;
using Distill.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Text examples already tokenized by Distill and padded to one fixed length, as the bench's Distill worker and its
/// PyTorch peer both read them: a safetensors file with int64 tensors <c>input_ids</c>, <c>token_type_ids</c>,
/// <c>attention_mask</c> (N, L) and <c>labels</c> (N). One tokenization feeds both sides, so neither side's tokenizer
/// can make the work differ. Every example is padded to L (not to the batch's longest, as <c>sst2</c> batches are)
/// because the teacher-output cache stores per-token hidden states and attention maps only at fixed shapes.
/// Registry-free: the bench opens it through <see cref="Kind"/> (<c>dataset: bench_tokens</c>, splits as
/// <c>&lt;path&gt;/&lt;split&gt;.safetensors</c>).
/// </summary>
public sealed class BenchTokenDataset : IDataset
{
    /// <summary>Dataset key in bench jobs.</summary>
    public const string Key = "bench_tokens";

    private static readonly string[] InputNames = ["input_ids", "token_type_ids", "attention_mask"];

    private readonly long[][] _inputs; // per input name: (N·L) row-major
    private readonly long[] _labels;

    private BenchTokenDataset(long[][] inputs, long[] labels, int length, int numClasses)
    {
        _inputs = inputs;
        _labels = labels;
        Length = length;
        NumClasses = numClasses;
    }

    public int Count => _labels.Length;

    public int NumClasses { get; }

    /// <summary>L, the tokens of every example.</summary>
    public int Length { get; }

    public int Label(int index) => (int)_labels[index];

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        int b = indices.Length, t = Length;
        var inputs = new Dictionary<string, Tensor>(InputNames.Length);
        for (int k = 0; k < InputNames.Length; k++)
        {
            var src = _inputs[k];
            var dst = new long[b * t];
            for (int i = 0; i < b; i++)
            {
                if ((uint)indices[i] >= (uint)Count)
                    throw new ArgumentOutOfRangeException(nameof(indices), $"{Key}: index {indices[i]} is outside 0..{Count - 1}.");
                Array.Copy(src, (long)indices[i] * t, dst, (long)i * t, t);
            }
            inputs[InputNames[k]] = torch.tensor(dst, [b, t]); // (B, L)
        }
        var labels = new long[b];
        for (int i = 0; i < b; i++) labels[i] = _labels[indices[i]];
        return new Batch(inputs, torch.tensor(labels)); // labels (B)
    }

    /// <summary>
    /// Writes tokenized examples to <paramref name="path"/>, each right-padded with <paramref name="padTokenId"/>
    /// (type 0, mask 0) to <paramref name="length"/> tokens. An example longer than <paramref name="length"/> is an
    /// error: tokenize with that max_length.
    /// </summary>
    public static void Write(string path, IReadOnlyList<BertEncoding> encodings, IReadOnlyList<int> labels, int length, int padTokenId, int numClasses)
    {
        if (encodings.Count != labels.Count)
            throw new ArgumentException($"{path}: {encodings.Count} encodings but {labels.Count} labels.", nameof(labels));
        int n = encodings.Count;
        var ids = new long[(long)n * length];
        var types = new long[(long)n * length];
        var mask = new long[(long)n * length];
        var labelValues = new long[n];
        for (int i = 0; i < n; i++)
        {
            var e = encodings[i];
            if (e.Length > length)
                throw new ArgumentException($"{path}: example {i} has {e.Length} tokens, more than the fixed length {length}; tokenize with max_length {length}.");
            long row = (long)i * length;
            for (int j = 0; j < length; j++)
            {
                bool real = j < e.Length;
                ids[row + j] = real ? e.InputIds[j] : padTokenId;
                types[row + j] = real ? e.TokenTypeIds[j] : 0;
                mask[row + j] = real ? e.AttentionMask[j] : 0;
            }
            labelValues[i] = labels[i];
        }
        using var scope = torch.NewDisposeScope();
        long[] shape = [n, length];
        SafeTensors.Save(path, new Dictionary<string, Tensor>
        {
            ["input_ids"] = torch.tensor(ids, shape),
            ["token_type_ids"] = torch.tensor(types, shape),
            ["attention_mask"] = torch.tensor(mask, shape),
            ["labels"] = torch.tensor(labelValues),
        }, new Dictionary<string, string> { ["num_classes"] = numClasses.ToString(CultureInfo.InvariantCulture) });
    }

    /// <summary>Reads a file written by <see cref="Write"/>; a missing tensor, a wrong dtype or shape is an <see cref="InvalidDataException"/> naming the file.</summary>
    public static BenchTokenDataset Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: tokenized bench data not found (written by `distill bench` into its work folder).", path);
        var (_, metadata, _) = SafeTensors.ReadHeader(path);
        using var scope = torch.NewDisposeScope();
        var tensors = SafeTensors.Load(path);
        Tensor Get(string name, int rank)
        {
            if (!tensors.TryGetValue(name, out var t))
                throw new InvalidDataException($"{path}: no '{name}' tensor; expected input_ids, token_type_ids, attention_mask (N, L) and labels (N), all int64.");
            if (t.dtype != ScalarType.Int64 || t.dim() != rank)
                throw new InvalidDataException($"{path}: '{name}' is {t.dtype} of shape ({string.Join(", ", t.shape)}); expected int64 with {rank} dimension(s).");
            return t;
        }
        var labelTensor = Get("labels", 1);
        long n = labelTensor.shape[0];
        var inputs = new long[InputNames.Length][];
        long length = -1;
        for (int k = 0; k < InputNames.Length; k++)
        {
            var t = Get(InputNames[k], 2);
            if (t.shape[0] != n || (length >= 0 && t.shape[1] != length))
                throw new InvalidDataException($"{path}: '{InputNames[k]}' is ({string.Join(", ", t.shape)}) but the file has {n} labels" +
                                               (length >= 0 ? $" and {length} tokens per example" : "") + "; all inputs must be (N, L).");
            length = t.shape[1];
            inputs[k] = t.contiguous().data<long>().ToArray();
        }
        if (n == 0 || length < 1) throw new InvalidDataException($"{path}: holds no examples.");
        int classes = metadata.TryGetValue("num_classes", out var c) && int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : 2;
        return new BenchTokenDataset(inputs, labelTensor.data<long>().ToArray(), checked((int)length), classes);
    }

    /// <summary>The file of a split: <c>&lt;folder&gt;/&lt;split&gt;.safetensors</c>.</summary>
    public static string SplitFile(string folder, string split) => System.IO.Path.Combine(folder, split + ".safetensors");

    /// <summary>The dataset entry the bench worker opens jobs with (not in <see cref="DatasetRegistry"/>: recipes never name it).</summary>
    public static DatasetKind Kind { get; } = new(
        Key,
        ["train", "dev"],
        spec =>
        [
            new InputSpec("input_ids", [spec.MaxLength], ScalarType.Int64),
            new InputSpec("token_type_ids", [spec.MaxLength], ScalarType.Int64),
            new InputSpec("attention_mask", [spec.MaxLength], ScalarType.Int64),
        ],
        spec => spec.SplitKeys.Select(k => k.Split)
            .Where(split => !File.Exists(SplitFile(spec.Path, split)))
            .Select(split => ("path", $"'{spec.Path}' has no {split}.safetensors")),
        (spec, split) => Open(SplitFile(spec.Path, split)),
        "text tokenized by `distill bench` (input_ids, token_type_ids, attention_mask padded to a fixed length; labels)");
}
