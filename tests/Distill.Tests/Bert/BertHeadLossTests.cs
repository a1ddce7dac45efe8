using Distill.Checkpoints;
using Distill.Models;
using Distill.Models.Bert;
using TorchSharp;
using Xunit;
using static Distill.Tests.Bert.BertTestHelpers;
using static TorchSharp.torch;

namespace Distill.Tests.Bert;

/// <summary>The three HF problem-type losses through the BERT head, checked against their closed-form definitions
/// (the hidden_act variants are checked in <see cref="Distill.Tests.Hf.HfActivationTests"/>).</summary>
public class BertHeadLossTests
{
    private static (BertForSequenceClassification Model, Batch Inputs, Tensor RefLogits) Loaded(BertConfig? overrideConfig = null)
    {
        var config = overrideConfig ?? BertConfig.Load(Folder(ClassifierFolder));
        var model = new BertForSequenceClassification(config);
        LoadStrict(model, SafeTensors.Load(Path.Combine(Folder(ClassifierFolder), "model.safetensors")));
        model.eval();
        var reference = Reference(ClassifierFolder);
        return (model, MakeBatch(reference), reference["logits"].to(ScalarType.Float64));
    }

    private static double LossWith(BertForSequenceClassification model, Batch inputs, Tensor labels)
    {
        using var noGrad = torch.no_grad();
        return model.call(new Batch(inputs.Inputs, labels)).Loss!.item<float>();
    }

    [Fact]
    public void MultiLabelIsMeanBceWithLogitsAndIsInferredFromFloatLabels()
    {
        using var scope = torch.NewDisposeScope();
        var (model, inputs, z) = Loaded();
        var y = torch.tensor(new double[] { 1, 0, 1, 1, 0, 0 }, [3, 2]);
        double expected = (z.clamp_min(0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean().item<double>();
        Assert.Equal("multi_label_classification", model.ResolveProblemType(y.to(ScalarType.Float32)));
        Assert.Equal(expected, LossWith(model, inputs, y.to(ScalarType.Float32)), 6);
    }

    [Fact]
    public void RegressionIsMeanSquaredError()
    {
        using var scope = torch.NewDisposeScope();
        var (model, inputs, z) = Loaded(BertConfig.Load(Folder(ClassifierFolder)) with { ProblemType = "regression" });
        var y = torch.tensor(new double[] { 0.5, -1, 2, 0, 1, 1 }, [3, 2]);
        double expected = (z - y).pow(2).mean().item<double>();
        Assert.Equal(expected, LossWith(model, inputs, y.to(ScalarType.Float32)), 6);
    }

    [Fact]
    public void OneLabelMeansRegressionOnSqueezedLogits()
    {
        using var scope = torch.NewDisposeScope();
        var model = new BertForSequenceClassification(BertConfig.Load(Folder(ClassifierFolder)) with { Id2Label = null, NumLabels = 1 });
        model.eval();
        var inputs = MakeBatch(Reference(ClassifierFolder));
        var labels = torch.tensor(new float[] { 0.5f, -1f, 2f });
        Assert.Equal("regression", model.ResolveProblemType(labels));
        using var noGrad = torch.no_grad();
        var output = model.call(new Batch(inputs.Inputs, labels));
        double expected = (output.Logits.reshape(3).to(ScalarType.Float64) - labels.to(ScalarType.Float64)).pow(2).mean().item<double>();
        // The head is freshly initialised (random), so the loss's magnitude varies: compare relative to it, at float32 precision.
        double actual = output.Loss!.item<float>();
        Assert.True(Math.Abs(expected - actual) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");
    }

    [Fact]
    public void SingleLabelCrossEntropyIgnoresMinus100()
    {
        using var scope = torch.NewDisposeScope();
        var (model, inputs, z) = Loaded();
        var logp = z.log_softmax(1);
        double expected = -(logp[0, 1].item<double>() + logp[2, 0].item<double>()) / 2;
        Assert.Equal(expected, LossWith(model, inputs, torch.tensor(new long[] { 1, -100, 0 })), 6);
    }
}
