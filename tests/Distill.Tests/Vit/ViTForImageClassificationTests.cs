using Distill.Data.Mnist;
using Distill.Models;
using Distill.Models.Vit;
using Distill.Recipes;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Vit;

public class ViTForImageClassificationTests(ITestOutputHelper output)
{
    /// <summary>The quickstart's compact ViT for MNIST: 28 px, 7 px patches (16 patches + CLS), 1 channel.</summary>
    private static readonly ViTConfig Mnist = new()
    {
        ImageSize = 28, PatchSize = 7, NumChannels = 1, HiddenSize = 64, NumHiddenLayers = 2,
        NumAttentionHeads = 4, IntermediateSize = 128, NumLabels = 10,
    };

    private static Batch Pixels(Tensor x, Tensor? labels = null) => new(new Dictionary<string, Tensor> { ["pixel_values"] = x }, labels);

    [Fact]
    public void CompactVitLearnsOnMnistShapedInput()
    {
        var g = ParamInit.Seeded(0);
        var model = ParamInit.Build(g, () => ModelRegistry.Default.Get("vit").Build(Mnist));
        Assert.Equal("vit", model.Family);
        Assert.Equal(2, model.NumHiddenLayers);
        var data = MnistDataset.Open(Path.Combine(TestPaths.Data, "mnist"), "test",
            [0.1307], [0.3081]);
        var batch = data.GetBatch(Enumerable.Range(0, 32).ToArray());
        Assert.Equal(new long[] { 32, 1, 28, 28 }, batch["pixel_values"].shape);

        model.OutputAttentions = true;
        var first = model.call(batch);
        Assert.Equal(new long[] { 32, 10 }, first.Logits.shape);
        Assert.Equal(3, first.HiddenStates.Count);
        Assert.All(first.HiddenStates, h => Assert.Equal(new long[] { 32, 17, 64 }, h.shape));
        Assert.Equal(2, first.Attentions.Count);
        Assert.All(first.Attentions, a => Assert.Equal(new long[] { 32, 4, 17, 17 }, a.shape));
        model.OutputAttentions = false;

        var optimizer = torch.optim.AdamW(model.parameters(), lr: 1e-3);
        float initial = first.Loss!.item<float>(), last = initial;
        Assert.True(float.IsFinite(initial));
        model.train();
        for (int step = 0; step < 40; step++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var loss = model.call(batch).Loss!;
            loss.backward();
            foreach (var (name, p) in model.named_parameters())
                Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} got no gradient");
            optimizer.step();
            last = loss.item<float>();
        }
        output.WriteLine($"loss {initial:F4} → {last:F4}");
        Assert.True(last < 0.5 * initial, $"loss went from {initial} to {last}; the model does not learn");
    }

    [Fact]
    public void WrongImageSizeIsAClearError()
    {
        var model = new ViTForImageClassification(Mnist);
        var e = Assert.Throws<ArgumentException>(() => model.call(Pixels(torch.zeros(2, 1, 32, 32))));
        Assert.Contains("(32*32) doesn't match the model (28*28)", e.Message);
        e = Assert.Throws<ArgumentException>(() => model.call(Pixels(torch.zeros(2, 3, 28, 28))));
        Assert.Contains("num_channels", e.Message);
        e = Assert.Throws<ArgumentException>(() => model.call(Pixels(torch.zeros(2, 28, 28))));
        Assert.Contains("(B, C, H, W)", e.Message);
    }

    [Fact]
    public void FreshWeightsFollowHuggingFaceInitialisation()
    {
        var g = ParamInit.Seeded(1);
        var model = ParamInit.Build(g, () => new ViTForImageClassification(new ViTConfig { HiddenSize = 64, NumAttentionHeads = 4, NumHiddenLayers = 1, IntermediateSize = 256, ImageSize = 32, PatchSize = 4, InitializerRange = 0.05 }));
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Assert.True(p["vit.encoder.layer.0.layernorm_before.weight"].eq(1f).all().item<bool>());
        Assert.True(p["vit.encoder.layer.0.layernorm_before.bias"].eq(0f).all().item<bool>());
        Assert.True(p["vit.encoder.layer.0.attention.attention.query.bias"].eq(0f).all().item<bool>());
        foreach (var name in new[] { "vit.encoder.layer.0.intermediate.dense.weight", "vit.embeddings.position_embeddings", "vit.embeddings.patch_embeddings.projection.weight" })
        {
            double std = p[name].std().item<float>();
            output.WriteLine($"{name}: std {std:F4}");
            Assert.InRange(std, 0.045, 0.055);
        }
    }

    [Fact]
    public void LossFollowsProblemType()
    {
        var g = ParamInit.Seeded(2);
        var x = torch.randn(3, 1, 28, 28, generator: g);

        var regression = ParamInit.Build(g, () => new ViTForImageClassification(Mnist with { NumLabels = 1 }));
        regression.eval();
        var target = torch.tensor(new[] { 0.5f, -1f, 2f });
        var r = regression.call(Pixels(x, target));
        Assert.Equal(nn.functional.mse_loss(r.Logits.squeeze(), target).item<float>(), r.Loss!.item<float>(), 6);

        var multi = ParamInit.Build(g, () => new ViTForImageClassification(Mnist with { NumLabels = 4 }));
        multi.eval();
        var multiTarget = torch.tensor(new float[] { 1, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1 }, 3, 4);
        var m = multi.call(Pixels(x, multiTarget)); // float labels with num_labels > 1 → multi-label
        Assert.Equal(nn.functional.binary_cross_entropy_with_logits(m.Logits, multiTarget).item<float>(), m.Loss!.item<float>(), 6);

        var single = multi.call(Pixels(x, torch.tensor(new long[] { 0, 3, 2 })));
        Assert.Equal(nn.functional.cross_entropy(single.Logits, torch.tensor(new long[] { 0, 3, 2 })).item<float>(), single.Loss!.item<float>(), 6);

        var forcedRegression = ParamInit.Build(g, () => new ViTForImageClassification(Mnist with { NumLabels = 4, ProblemType = "regression" }));
        var f = forcedRegression.call(Pixels(x, multiTarget));
        Assert.Equal(nn.functional.mse_loss(f.Logits, multiTarget).item<float>(), f.Loss!.item<float>(), 6);

        Assert.Null(multi.call(Pixels(x)).Loss);
        Assert.Throws<ArgumentException>(() => multi.call(Pixels(x, torch.ones(3, 2))));
    }

    [Fact]
    public void NamedOutputsUseHuggingFaceNames()
    {
        var model = new ViTForImageClassification(Mnist);
        model.OutputAttentions = true;
        var result = (INamedOutputs)model.call(Pixels(torch.randn(2, 1, 28, 28), torch.tensor(new long[] { 1, 2 })));
        Assert.Equal(["logits", "loss", "hidden_states.0", "hidden_states.1", "hidden_states.2", "attentions.0", "attentions.1"],
            result.NamedTensors().Select(kv => kv.Key).ToArray());
    }

    [Fact]
    public void DropoutIsActiveOnlyInTraining()
    {
        var g = ParamInit.Seeded(3);
        var model = ParamInit.Build(g, () => new ViTForImageClassification(Mnist with { HiddenDropoutProb = 0.3, AttentionProbsDropoutProb = 0.3 }));
        var x = Pixels(torch.randn(2, 1, 28, 28, generator: g));
        model.UseGenerator(g);
        model.train();
        Assert.False(torch.allclose(model.call(x).Logits, model.call(x).Logits));
        model.eval();
        Assert.True(model.call(x).Logits.equal(model.call(x).Logits).all().item<bool>());
    }
}
