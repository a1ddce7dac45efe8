using Distill.Models;
using Distill.Models.Wav2Vec2;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static Distill.Tests.Wav2Vec2.Wav2Vec2TestData;

namespace Distill.Tests.Wav2Vec2;

/// <summary>Training-only behaviour (SpecAugment, LayerDrop, dropout switches) and input checks.</summary>
public class Wav2Vec2TrainingBehaviourTests
{
    private static Wav2Vec2Config NoRegularisation(Wav2Vec2Config c) => c with
    {
        HiddenDropout = 0, ActivationDropout = 0, AttentionDropout = 0, FeatProjDropout = 0, FinalDropout = 0, LayerDrop = 0,
    };

    [Fact]
    public void SpecAugmentMasksWholeSpansInsideTheRealLength()
    {
        var generator = new Generator(7, CPU);
        long[] real = [100, 50, 20, 9];
        var mask = Wav2Vec2SpecAugment.ComputeMask(4, 100, prob: 0.3, span: 10, realLengths: real, minMasks: 2, generator);
        for (int b = 0; b < 4; b++)
        {
            var row = Enumerable.Range(0, 100).Select(j => mask[b, j]).ToArray();
            Assert.DoesNotContain(true, row.Skip((int)real[b]));
            int masked = row.Count(x => x);
            if (real[b] < 10) { Assert.Equal(0, masked); continue; }
            Assert.True(masked >= 10, $"row {b}: at least one span (min_masks 2) expected, got {masked} frames");
            // every maximal run is a union of whole 10-frame spans
            int run = 0;
            foreach (bool x in row.Append(false))
            {
                if (x) run++;
                else { Assert.True(run == 0 || run >= 10, $"row {b}: run of {run} frames"); run = 0; }
            }
        }
        int n0 = Enumerable.Range(0, 100).Count(j => mask[0, j]);
        Assert.InRange(n0, 10, 40); // ⌊0.3·100/10 + ε⌋ ∈ {3, 4} spans, possibly overlapping
        Assert.Equal(0, Enumerable.Range(0, 5).Count(j => Wav2Vec2SpecAugment.ComputeMask(1, 5, 0.5, 10, null, 2, generator)[0, j]));
    }

    [Fact]
    public void TrainModeDiffersFromEvalOnlyThroughTheConfiguredRegularisers()
    {
        string folder = Folder("layernorm", "Wav2Vec2Model");
        var reference = Reference(folder);
        var batch = Batch(reference, withMask: true, withLabels: false);
        var quiet = new Wav2Vec2Model(NoRegularisation(Config(folder)) with { ApplySpecAugment = false });
        LoadStrict(quiet, Checkpoint(folder));
        quiet.train();
        using (torch.no_grad())
            Assert.True(torch.allclose(quiet.call(batch).LastHiddenState, reference["last_hidden_state"], rtol: 0, atol: 1e-5));

        var masked = new Wav2Vec2Model(NoRegularisation(Config(folder)) with { MaskTimeProb = 0.9, MaskTimeLength = 2, MaskTimeMinMasks = 1 });
        LoadStrict(masked, Checkpoint(folder));
        masked.train();
        masked.Generator = new Generator(1, CPU);
        using (torch.no_grad())
        {
            var h0 = masked.call(batch).HiddenStates[0];
            Assert.False(torch.allclose(h0, reference["hidden_states.0"], rtol: 0, atol: 1e-3));
            masked.eval();
            Assert.True(torch.allclose(masked.call(batch).HiddenStates[0], reference["hidden_states.0"], rtol: 0, atol: 1e-5));
        }
    }

    [Fact]
    public void LayerDropOneSkipsEveryLayerAndRefusesAttentionMaps()
    {
        string folder = Folder("groupnorm", "Wav2Vec2Model");
        var reference = Reference(folder);
        var model = new Wav2Vec2Model(NoRegularisation(Config(folder)) with { LayerDrop = 1.0, ApplySpecAugment = false });
        LoadStrict(model, Checkpoint(folder));
        model.train();
        var batch = Batch(reference, withMask: false, withLabels: false);
        using (torch.no_grad())
        {
            var output = model.call(batch);
            Assert.Equal(3, output.HiddenStates.Count);
            Assert.True(torch.allclose(output.LastHiddenState, reference["hidden_states.0"], rtol: 0, atol: 1e-5));
            model.OutputAttentions = true;
            var ex = Assert.Throws<InvalidOperationException>(() => model.call(batch));
            Assert.Contains("layerdrop", ex.Message);
        }
    }

    [Fact]
    public void BadInputsGetClearErrors()
    {
        var model = new Wav2Vec2Model(Config(Folder("layernorm", "Wav2Vec2Model")));
        model.eval();
        using var _ = torch.no_grad();
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(torch.zeros(2, 399), null));
        Assert.Contains("400", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => model.Forward(torch.zeros(2, 1, 800), null));
        Assert.Contains("(batch, samples)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => model.Forward(torch.zeros(2, 800), torch.ones(2, 700, dtype: ScalarType.Int64)));
        Assert.Contains("does not match", ex.Message);
        var mask = torch.ones(2, 800, dtype: ScalarType.Int64);
        mask[1, TensorIndex.Slice(300)] = torch.tensor(0L);
        ex = Assert.Throws<ArgumentException>(() => model.Forward(torch.zeros(2, 800), mask));
        Assert.Contains("example 1", ex.Message);
        var missing = Assert.Throws<KeyNotFoundException>(() => model.call(new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = torch.zeros(1, 3) }, null)));
        Assert.Contains("input_values", missing.Message);
    }

    [Fact]
    public void FreshModelsFollowHfInitialisationAndTrain()
    {
        var config = NoRegularisation(Config(Folder("groupnorm", "Wav2Vec2ForSequenceClassification"))) with { InitializerRange = 0.02 };
        var model = ParamInit.Build(0, () => new Wav2Vec2ForSequenceClassification(config));
        model.UseGenerator(new Generator(0, CPU));
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        double std = p["wav2vec2.encoder.layers.0.attention.q_proj.weight"].std().item<float>();
        Assert.InRange(std, 0.015, 0.025);
        Assert.Equal(0f, p["wav2vec2.encoder.layers.0.attention.q_proj.bias"].abs().max().item<float>());
        // norms start at weight 1 / bias 0 (TorchSharp's GroupNorm alone leaves them uninitialised)
        Assert.True(p["wav2vec2.feature_extractor.conv_layers.0.layer_norm.weight"].eq(1).all().item<bool>());
        Assert.True(p["wav2vec2.feature_extractor.conv_layers.0.layer_norm.bias"].eq(0).all().item<bool>());
        // weight_g starts as ‖weight_v‖ per kernel position, so the effective weight equals weight_v
        var v = p["wav2vec2.encoder.pos_conv_embed.conv.weight_v"];
        var g = p["wav2vec2.encoder.pos_conv_embed.conv.weight_g"];
        Assert.True(torch.allclose(g, v.pow(2).sum(new long[] { 0, 1 }, keepdim: true).sqrt(), rtol: 1e-6, atol: 0));
        Assert.InRange(p["wav2vec2.masked_spec_embed"].min().item<float>(), 0f, 1f); // U(0, 1)
        Assert.InRange(p["wav2vec2.masked_spec_embed"].max().item<float>(), 0f, 1f);
        // like HF, the SpecAugment embedding exists only when some masking is configured
        var plain = new Wav2Vec2Model(config with { MaskTimeProb = 0, MaskFeatureProb = 0 });
        Assert.DoesNotContain(plain.named_parameters(), x => x.name == "masked_spec_embed");

        var reference = Reference(Folder("groupnorm", "Wav2Vec2ForSequenceClassification"));
        var batch = Batch(reference, withMask: false, withLabels: true);
        var opt = torch.optim.Adam(model.parameters(), 5e-3);
        model.train();
        float first = 0, last = 0;
        for (int step = 0; step < 40; step++)
        {
            using var scope = torch.NewDisposeScope();
            opt.zero_grad();
            var loss = model.call(batch).Loss!;
            loss.backward();
            opt.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < first * 0.5, $"loss {first} → {last}");
    }
}
