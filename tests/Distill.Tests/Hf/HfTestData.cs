using Distill.Checkpoints;
using Distill.Models;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Hf;

/// <summary>The HF reference folders (tests/fixtures/hf), their reference inputs and outputs, and tolerance checks.</summary>
internal static class HfTestData
{
    public const string BertBase = "bert-tiny-random-BertModel";
    public const string BertCls = "bert-tiny-random-BertForSequenceClassification";
    public const string BertStudent = "bert-tiny-random-student-BertForSequenceClassification";
    public const string VitBase = "vit-tiny-random-ViTModel";
    public const string VitCls = "vit-tiny-random-ViTForImageClassification";
    public const string W2vGroupBase = "wav2vec2-tiny-random-groupnorm-Wav2Vec2Model";
    public const string W2vGroupCtc = "wav2vec2-tiny-random-groupnorm-Wav2Vec2ForCTC";
    public const string W2vGroupCls = "wav2vec2-tiny-random-groupnorm-Wav2Vec2ForSequenceClassification";
    public const string W2vLayerBase = "wav2vec2-tiny-random-layernorm-Wav2Vec2Model";
    public const string W2vLayerCtc = "wav2vec2-tiny-random-layernorm-Wav2Vec2ForCTC";
    public const string W2vLayerCls = "wav2vec2-tiny-random-layernorm-Wav2Vec2ForSequenceClassification";

    /// <summary>Reference folders with the names of the inputs their reference forward pass took.</summary>
    public static readonly (string Folder, string[] Inputs)[] Folders =
    [
        (BertBase, ["input_ids", "token_type_ids", "attention_mask"]),
        (BertCls, ["input_ids", "token_type_ids", "attention_mask", "labels"]),
        (VitBase, ["pixel_values"]),
        (VitCls, ["pixel_values", "labels"]),
        (W2vGroupBase, ["input_values"]),
        (W2vGroupCtc, ["input_values", "labels"]),
        (W2vGroupCls, ["input_values", "labels"]),
        (W2vLayerBase, ["input_values", "attention_mask"]),
        (W2vLayerCtc, ["input_values", "attention_mask", "labels"]),
        (W2vLayerCls, ["input_values", "attention_mask", "labels"]),
    ];

    /// <summary>The reference outputs (HF names) each folder's reference file holds, i.e. what a forward must reproduce.</summary>
    public static readonly string[] OutputNames =
        ["logits", "loss", "last_hidden_state", "pooler_output", "extract_features", "hidden_states.0", "hidden_states.1", "hidden_states.2", "attentions.0", "attentions.1"];

    public static string Folder(string name) => TestPaths.Hf(name);

    public static Dictionary<string, Tensor> Reference(string folder) =>
        SafeTensors.Load(Path.Combine(Folder(folder), "reference", "reference_outputs.safetensors"));

    public static Dictionary<string, Tensor> Inputs(string folder, Dictionary<string, Tensor> reference) =>
        Folders.Single(f => f.Folder == folder).Inputs.ToDictionary(n => n, n => reference[n]);

    public static Batch Batch(Dictionary<string, Tensor> inputs)
    {
        var x = inputs.Where(kv => kv.Key != "labels").ToDictionary(kv => kv.Key, kv => kv.Value);
        return new Batch(x, inputs.GetValueOrDefault("labels"));
    }

    /// <summary>Every reference output present in <paramref name="reference"/> must be in <paramref name="actual"/>
    /// and match within <paramref name="atol"/>; returns how many were compared.</summary>
    public static int AssertMatchesReference(ITestOutputHelper log, string folder, Dictionary<string, Tensor> reference,
        IReadOnlyDictionary<string, Tensor> actual, double atol = 1e-5)
    {
        int compared = 0;
        foreach (var name in OutputNames.Where(reference.ContainsKey))
        {
            Assert.True(actual.ContainsKey(name), $"{folder}: output '{name}' missing; got {string.Join(", ", actual.Keys)}");
            AssertClose(log, $"{folder} {name}", reference[name], actual[name], atol);
            compared++;
        }
        Assert.True(compared >= 2, $"{folder}: only {compared} reference outputs compared");
        return compared;
    }

    /// <summary>Same element count (reference scalars are stored as [1]) and |a − e| ≤ atol everywhere.</summary>
    public static void AssertClose(ITestOutputHelper log, string name, Tensor expected, Tensor actual, double atol)
    {
        Assert.Equal(expected.numel(), actual.numel());
        if (expected.dim() > 0 && expected.numel() > 1) Assert.Equal(expected.shape, actual.shape);
        var e = expected.detach().to(ScalarType.Float64).reshape(-1);
        var a = actual.detach().to(ScalarType.Float64).reshape(-1);
        double max = (a - e).abs().max().item<double>();
        log.WriteLine($"{name}: max |diff| = {max:E2}");
        Assert.True(max <= atol, $"{name}: max |diff| {max:E3} > {atol:E1}");
    }

    /// <summary>Names, shapes, dtypes and bytes all equal.</summary>
    public static void AssertSameTensors(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (k, e) in expected)
        {
            var a = actual[k];
            Assert.True(e.dtype == a.dtype && e.shape.SequenceEqual(a.shape), $"{k}: {e.dtype}[{string.Join(",", e.shape)}] vs {a.dtype}[{string.Join(",", a.shape)}]");
            Assert.True(e.contiguous().cpu().bytes.SequenceEqual(a.contiguous().cpu().bytes), $"{k}: values differ");
        }
    }
}
