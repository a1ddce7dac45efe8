using Distill.Hf;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using Distill.Models.Mlp;
using Distill.Models.Vit;
using Distill.Models.Wav2Vec2;
using Distill.Models.OnnxGraph;
using Distill.Onnx.Export;
using Distill.Onnx.Runtime;
using Distill.Tests.Hf;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Onnx;

/// <summary>
/// Every family's exported graph, run by ONNX Runtime, computes the logits Distill's own forward computes on the same
/// inputs (max |Δ| ≤ 1e-4): tiny random configs with their weights perturbed away from the initialisation (so every
/// module matters), the tiny HF fixtures, students with pruned heads and FFN neurons, padded text batches with ragged
/// attention masks, and audio of different lengths (padded batches with a mask, and separate lengths without one).
/// </summary>
public sealed class OnnxExportParityTests(ITestOutputHelper log)
{
    private const double Tolerance = 1e-4;

    [Fact]
    public void Mlp()
    {
        var model = Seeded(1, () => new MlpModel(new MlpConfig { InputSize = 12, HiddenSizes = [9, 7], NumLabels = 4 }));
        Check(model, Pixels(5, [5, 1, 3, 4], seed: 2));
        Check(model, Pixels(3, [3, 12], seed: 3)); // flat rows: the graph's input rank is open, as the model's
    }

    [Fact]
    public void Cnn_with_unequal_channel_counts_as_left_by_channel_pruning()
    {
        var model = Seeded(4, () => new CnnModel(new CnnConfig { InChannels = 2, ImageSize = 8, Channels = [5, 3], HiddenSize = 6, NumLabels = 3 }));
        Check(model, Pixels(4, [4, 2, 8, 8], seed: 5));
    }

    [Fact]
    public void Bert_padded_batch_with_ragged_attention_mask()
    {
        var model = Seeded(6, () => new BertForSequenceClassification(TinyBert()));
        Check(model, Text(model, [7, 3, 5, 1], seed: 7));
    }

    [Fact]
    public void Bert_student_with_pruned_heads_and_ffn()
    {
        var config = TinyBert() with { PrunedHeads = new() { ["0"] = [1], ["1"] = [0, 2] }, IntermediateSize = 5 };
        var model = Seeded(8, () => new BertForSequenceClassification(config));
        Check(model, Text(model, [6, 2, 6], seed: 9));
    }

    [Fact]
    public void Bert_hf_fixtures()
    {
        foreach (string name in new[] { "bert-tiny-random-BertForSequenceClassification", "bert-tiny-random-student-BertForSequenceClassification" })
        {
            var model = (DistillModel)HfFolder.LoadModel(HfTestData.Folder(name), HfArchitectureRegistry.Default).Model;
            Check(model, Text(model, [9, 4, 2], seed: 10), name);
        }
    }

    [Fact]
    public void Vit_and_vit_with_pruned_heads_and_ffn()
    {
        var config = new ViTConfig { HiddenSize = 12, NumHiddenLayers = 2, NumAttentionHeads = 3, IntermediateSize = 10, ImageSize = 8, PatchSize = 4, NumChannels = 2, NumLabels = 3 };
        Check(Seeded(11, () => new ViTForImageClassification(config)), Pixels(3, [3, 2, 8, 8], seed: 12));
        var pruned = config with { PrunedHeads = new() { ["1"] = [0, 2] }, IntermediateSize = 4, QkvBias = false };
        Check(Seeded(13, () => new ViTForImageClassification(pruned)), Pixels(2, [2, 2, 8, 8], seed: 14), "pruned");
        var fixture = (DistillModel)HfFolder.LoadModel(HfTestData.Folder("vit-tiny-random-ViTForImageClassification"), HfArchitectureRegistry.Default).Model;
        Check(fixture, Pixels(2, [2, 3, 32, 32], seed: 15), "fixture");
    }

    [Theory]
    [InlineData("wav2vec2-tiny-random-groupnorm-Wav2Vec2ForCTC")]
    [InlineData("wav2vec2-tiny-random-groupnorm-Wav2Vec2ForSequenceClassification")]
    [InlineData("wav2vec2-tiny-random-layernorm-Wav2Vec2ForCTC")]
    [InlineData("wav2vec2-tiny-random-layernorm-Wav2Vec2ForSequenceClassification")]
    public void Wav2vec2_fixtures_at_several_audio_lengths(string name)
    {
        var model = (DistillModel)HfFolder.LoadModel(HfTestData.Folder(name), HfArchitectureRegistry.Default).Model;
        Perturb(model, seed: 16, scale: 0.05);
        bool layerNorm = name.Contains("layernorm", StringComparison.Ordinal);
        // Separate lengths, no mask (the group-norm models' way; the layer-norm graph is exported without a mask here).
        var plain = OnnxExporter.ToBytes(model, new OnnxExportOptions { AudioAttentionMask = false });
        foreach (int samples in new[] { 1200, 2000 }) Check(model, Audio([samples, samples], masked: false, seed: samples), $"{name} L={samples}", plain);
        if (layerNorm)
        {
            // A padded batch of clips of different lengths with its attention_mask (the layer-norm default).
            var masked = OnnxExporter.ToBytes(model);
            Check(model, Audio([2400, 1500, 900], masked: true, seed: 17), $"{name} padded", masked);
        }
    }

    [Fact]
    public void Wav2vec2_random_configs_post_norm_and_stable_with_weighted_layer_sum_and_mask()
    {
        foreach (bool stable in new[] { false, true })
        {
            var config = new Wav2Vec2Config
            {
                ConvDim = [6, 8], ConvKernel = [10, 4], ConvStride = [5, 3], ConvBias = !stable, FeatExtractNorm = stable ? "layer" : "group",
                HiddenSize = 12, NumHiddenLayers = 2, NumAttentionHeads = 3, IntermediateSize = 7, DoStableLayerNorm = stable,
                NumConvPosEmbeddings = stable ? 5 : 4, NumConvPosEmbeddingGroups = 2, UseWeightedLayerSum = true, ClassifierProjSize = 5,
                NumLabelsValue = 3, MaskTimeProb = 0, LayerDrop = 0,
            };
            var model = Seeded(18, () => Wav2Vec2ForSequenceClassification.Build(config));
            Perturb(model, seed: 19, scale: 0.2);
            var bytes = OnnxExporter.ToBytes(model, new OnnxExportOptions { AudioAttentionMask = true });
            Check(model, Audio([400, 260, 130], masked: true, seed: 20), stable ? "stable" : "post-norm", bytes);
        }
    }

    [Fact]
    public void Exported_graph_declares_hf_names_dynamic_axes_and_opset_17()
    {
        var model = Seeded(21, () => new BertForSequenceClassification(TinyBert()));
        var onnx = global::Onnx.ModelProto.Parser.ParseFrom(OnnxExporter.ToBytes(model));
        Assert.Equal(17, onnx.OpsetImport.Single(o => o.Domain == "").Version);
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], onnx.Graph.Input.Select(i => i.Name));
        Assert.All(onnx.Graph.Input, i => Assert.Equal(["batch", "sequence"], i.Type.TensorType.Shape.Dim.Select(d => d.DimParam)));
        Assert.Equal("logits", Assert.Single(onnx.Graph.Output).Name);
        Assert.Contains(onnx.Graph.Node, n => n.OpType == "LayerNormalization");
        Assert.Contains(onnx.Graph.Node, n => n.OpType == "Erf");
        // The weights keep their state-dict names.
        Assert.Contains(onnx.Graph.Initializer, t => t.Name == "bert.embeddings.word_embeddings.weight");
    }

    // ------------------------------------------------------------------ helpers

    internal static BertConfig TinyBert() => new()
    {
        VocabSize = 40, HiddenSize = 12, NumHiddenLayers = 2, NumAttentionHeads = 3, IntermediateSize = 9, MaxPositionEmbeddings = 16,
        NumLabels = 3, HiddenDropoutProb = 0.3, AttentionProbsDropoutProb = 0.3,
    };

    /// <summary>Built from a seeded generator, then every weight perturbed (BERT's 0.02 init would make every module nearly inert).</summary>
    internal static DistillModel Seeded(long seed, Func<DistillModel> build)
    {
        var model = ParamInit.Build(ParamInit.Seeded(seed), build);
        Perturb(model, seed + 1000, scale: 0.3);
        return model;
    }

    internal static void Perturb(DistillModel model, long seed, double scale)
    {
        var g = ParamInit.Seeded(seed);
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters()) p.add_(randn(p.shape, generator: g) * scale);
        foreach (var (name, b) in model.named_buffers())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal)) b.copy_(randn(b.shape, generator: g) * 0.2);
            if (name.EndsWith("running_var", StringComparison.Ordinal)) b.copy_(rand(b.shape, generator: g) + 0.5);
        }
    }

    internal static Batch Pixels(int batch, long[] shape, long seed) =>
        new(new Dictionary<string, Tensor> { ["pixel_values"] = randn(shape, generator: ParamInit.Seeded(seed)) }, null);

    /// <summary>Token ids for rows of the given real lengths, right-padded with 0 to the longest, with the ragged mask and two segments.</summary>
    internal static Batch Text(DistillModel model, int[] lengths, long seed)
    {
        var config = (BertConfig)model.Config;
        var rng = new Random((int)seed);
        int b = lengths.Length, t = lengths.Max();
        var ids = new long[b * t];
        var mask = new long[b * t];
        var types = new long[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < lengths[i]; j++)
            {
                ids[i * t + j] = rng.Next(1, Math.Min(config.VocabSize, 500));
                mask[i * t + j] = 1;
                types[i * t + j] = j >= lengths[i] / 2 ? 1 : 0;
            }
        return new Batch(new Dictionary<string, Tensor>
        {
            ["input_ids"] = tensor(ids, [b, t]), ["attention_mask"] = tensor(mask, [b, t]), ["token_type_ids"] = tensor(types, [b, t]),
        }, null);
    }

    /// <summary>Clips of the given lengths, zero-padded to the longest; with <paramref name="masked"/> the (B, L) mask.</summary>
    internal static Batch Audio(int[] lengths, bool masked, long seed)
    {
        int b = lengths.Length, l = lengths.Max();
        var g = ParamInit.Seeded(seed);
        var values = zeros(b, l);
        var mask = zeros(new long[] { b, l }, dtype: ScalarType.Int64);
        for (int i = 0; i < b; i++)
        {
            values[i, TensorIndex.Slice(0, lengths[i])] = randn(new long[] { lengths[i] }, generator: g);
            mask[i, TensorIndex.Slice(0, lengths[i])] = 1;
        }
        var inputs = new Dictionary<string, Tensor> { ["input_values"] = values };
        if (masked) inputs["attention_mask"] = mask;
        return new Batch(inputs, null);
    }

    private void Check(DistillModel model, Batch batch, string? what = null, byte[]? onnx = null)
    {
        model.eval();
        Tensor expected;
        using (no_grad()) expected = model.call(batch).Logits;
        onnx ??= OnnxExporter.ToBytes(model);
        using var ort = new OnnxRuntimeModel(onnx);
        var actual = ort.Run(batch);
        Assert.Equal(expected.shape, actual.shape);
        double diff = (expected - actual).abs().max().item<float>();
        double magnitude = expected.abs().max().item<float>();
        log.WriteLine($"{model.Family} {what}: logits {string.Join("x", expected.shape)}, max |logit| {magnitude:G4}, max |ORT − Distill| {diff:G3}");
        Assert.True(magnitude > 1e-3, "the logits are all near zero: the comparison would prove nothing");
        Assert.True(diff <= Tolerance, $"{model.Family} {what}: ONNX Runtime differs from Distill by {diff:G4} (tolerance {Tolerance})");
    }
}
