using Distill.Models;
using Distill.Models.Vit;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Vit;

/// <summary>
/// Our ViT against HuggingFace transformers 4.40.2's outputs for the same weights and pixels (tests/fixtures/hf).
/// Activations: max |ours − HF| ≤ 1e-5. Gradients: |ours − HF| ≤ 1e-6 + 1e-4·|HF| elementwise.
/// </summary>
public class VitParityTests(ITestOutputHelper output)
{
    private const double ActivationAtol = 1e-5;
    private const double GradAtol = 1e-6;
    private const double GradRtol = 1e-4;

    private static Batch PixelBatch(Dictionary<string, Tensor> reference, Tensor? labels = null) =>
        new(new Dictionary<string, Tensor> { ["pixel_values"] = reference["pixel_values"] }, labels);

    private void AssertClose(string name, Tensor ours, Tensor reference)
    {
        double diff = VitReference.MaxAbsDiff(ours, reference);
        output.WriteLine($"{name}: max abs diff {diff:E2}");
        Assert.True(diff <= ActivationAtol, $"{name}: max abs diff {diff:E3} > {ActivationAtol:E0}");
    }

    [Fact]
    public void ViTModelMatchesHuggingFace()
    {
        var reference = VitReference.Outputs(VitReference.BaseFolder);
        var model = VitReference.LoadBase();
        model.OutputAttentions = true;
        using var _ = torch.no_grad();
        var result = model.call(PixelBatch(reference));

        var named = result.NamedTensors().ToDictionary(kv => kv.Key, kv => kv.Value);
        var expectedNames = reference.Keys.Where(k => k is not ("pixel_values" or "raw_pixels_uint8_NHWC")).Order().ToList();
        Assert.Equal(expectedNames, named.Keys.Order().ToList());
        foreach (var name in expectedNames) AssertClose(name, named[name], reference[name]);
        Assert.Equal(3, result.HiddenStates.Count);
        Assert.Equal(2, result.Attentions.Count);
    }

    [Fact]
    public void AttentionsAreOffByDefault()
    {
        var reference = VitReference.Outputs(VitReference.BaseFolder);
        var model = VitReference.LoadBase();
        using var _ = torch.no_grad();
        var result = model.call(PixelBatch(reference));
        Assert.Empty(result.Attentions);
        AssertClose("last_hidden_state", result.LastHiddenState, reference["last_hidden_state"]);
    }

    [Fact]
    public void ClassifierMatchesHuggingFaceIncludingLossAndGradients()
    {
        var reference = VitReference.Outputs(VitReference.ClassifierFolder);
        var model = VitReference.LoadClassifier();
        var result = model.call(PixelBatch(reference, reference["labels"]));
        Assert.Equal("vit", model.Family);

        AssertClose("logits", result.Logits, reference["logits"]);
        for (int i = 0; i < 3; i++) AssertClose($"hidden_states.{i}", result.HiddenStates[i], reference[$"hidden_states.{i}"]);
        Assert.NotNull(result.Loss);
        AssertClose("loss", result.Loss!.reshape(1), reference["loss"]);

        result.Loss.backward();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var gradNames = reference.Keys.Where(k => k.StartsWith("grad.", StringComparison.Ordinal)).ToList();
        Assert.Equal(10, gradNames.Count);
        foreach (var gradName in gradNames)
        {
            var expected = reference[gradName].to_type(ScalarType.Float64);
            var grad = parameters[gradName["grad.".Length..]].grad;
            Assert.NotNull(grad);
            var actual = grad!.to_type(ScalarType.Float64);
            var err = (actual - expected).abs();
            double maxAbs = err.max().item<double>();
            double maxRel = (err / expected.abs().clamp_min(1e-12)).max().item<double>();
            bool ok = (err <= GradAtol + GradRtol * expected.abs()).all().item<bool>();
            output.WriteLine($"{gradName}: max abs diff {maxAbs:E2}, max rel diff {maxRel:E2} (|HF| max {expected.abs().max().item<double>():E2})");
            Assert.True(ok, $"{gradName}: max abs diff {maxAbs:E3} exceeds {GradAtol:E0} + {GradRtol:E0}·|HF|");
        }
    }

    [Fact]
    public void ClassifierWeightsLoadIntoBareModelByStrippingPrefix()
    {
        // Same encoder weights as the ViTModel folder (SOURCES.md §6b): stripping "vit." and dropping the classifier must
        // give a pooler-less ViTModel whose hidden states equal the ViTModel reference.
        var config = ViTConfig.Load(Path.Combine(VitReference.Folder(VitReference.ClassifierFolder), "config.json"));
        var model = new ViTModel(config, addPoolingLayer: false);
        VitReference.LoadStrict(model, VitReference.Weights(VitReference.ClassifierFolder,
            k => k.StartsWith("vit.", StringComparison.Ordinal) ? k["vit.".Length..] : null));
        model.eval();
        var reference = VitReference.Outputs(VitReference.BaseFolder);
        using var _ = torch.no_grad();
        var result = model.call(PixelBatch(reference));
        Assert.Null(result.PoolerOutput);
        AssertClose("last_hidden_state", result.LastHiddenState, reference["last_hidden_state"]);
        AssertClose("hidden_states.2", result.HiddenStates[2], reference["hidden_states.2"]);
    }

    [Fact]
    public void StateDictKeysAreHuggingFaceNames()
    {
        var config = ViTConfig.Load(Path.Combine(VitReference.Folder(VitReference.ClassifierFolder), "config.json"));
        var keys = new ViTForImageClassification(config).state_dict().Keys.Order(StringComparer.Ordinal).ToList();
        var fileKeys = VitReference.Weights(VitReference.ClassifierFolder).Keys.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(fileKeys, keys);
        var baseKeys = new ViTModel(config).state_dict().Keys.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(VitReference.Weights(VitReference.BaseFolder).Keys.Order(StringComparer.Ordinal).ToList(), baseKeys);
    }
}
