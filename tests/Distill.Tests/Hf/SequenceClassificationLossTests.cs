using Distill.Models.Hf;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Hf;

/// <summary>HF's problem_type rule and the label checks of the shared head loss, with hand-computed values (the
/// losses' agreement with HF on real heads is in the BERT, ViT and wav2vec2 test classes).</summary>
public class SequenceClassificationLossTests
{
    [Fact]
    public void ProblemTypeIsTheConfigsElseInferredFromNumLabelsAndLabelDtype()
    {
        using var scope = torch.NewDisposeScope();
        Assert.Equal("regression", SequenceClassificationLoss.Resolve(null, 1, torch.zeros(3, ScalarType.Int64)));
        Assert.Equal("single_label_classification", SequenceClassificationLoss.Resolve(null, 3, torch.zeros(3, ScalarType.Int64)));
        Assert.Equal("single_label_classification", SequenceClassificationLoss.Resolve(null, 3, torch.zeros(3, ScalarType.Int32)));
        Assert.Equal("multi_label_classification", SequenceClassificationLoss.Resolve(null, 3, torch.zeros(3, ScalarType.Int16)));
        Assert.Equal("multi_label_classification", SequenceClassificationLoss.Resolve(null, 3, torch.zeros(3, 3)));
        Assert.Equal("regression", SequenceClassificationLoss.Resolve("regression", 3, torch.zeros(3, ScalarType.Int64)));
        Assert.Null(SequenceClassificationLoss.Problem(null));
        Assert.Contains("'ranking' is not one of regression,", SequenceClassificationLoss.Problem("ranking"));
    }

    [Fact]
    public void OneLabelRegressionIsMseOnSqueezedLogits()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new float[] { 1, 2, 3 }, 3, 1);
        var loss = SequenceClassificationLoss.Compute(logits, torch.tensor(new float[] { 1.5f, 2, 2 }), 1, null, "vit");
        Assert.Equal((0.25 + 0 + 1) / 3, loss.item<float>(), 6);
        var e = Assert.Throws<ArgumentException>(() => SequenceClassificationLoss.Compute(logits, torch.zeros(2), 1, null, "vit"));
        Assert.Contains("vit: regression with 1 label needs 3 labels", e.Message);
    }

    [Fact]
    public void CrossEntropySkipsMinus100AndRefusesBadIds()
    {
        using var scope = torch.NewDisposeScope();
        // Logits (0, ln 3) for both rows: p(class 1) = 3/4. Row 2 is ignored, so the mean is over row 1 only.
        var logits = torch.tensor(new float[] { 0, (float)Math.Log(3), 0, (float)Math.Log(3) }, 2, 2);
        var loss = SequenceClassificationLoss.CrossEntropy(logits, torch.tensor(new long[] { 1, -100 }), 2, "wav2vec2");
        Assert.Equal(-Math.Log(0.75), loss.item<float>(), 6);

        Assert.Contains("wav2vec2: single-label classification needs integer class ids, not Float32 labels",
            Assert.Throws<ArgumentException>(() => SequenceClassificationLoss.CrossEntropy(logits, torch.zeros(2), 2, "wav2vec2")).Message);
        Assert.Contains("labels hold class ids in [0, 2] but the model has num_labels 2",
            Assert.Throws<ArgumentException>(() => SequenceClassificationLoss.CrossEntropy(logits, torch.tensor(new long[] { 0, 2 }), 2, "wav2vec2")).Message);
        Assert.Contains("needs 2 class ids (one per example)",
            Assert.Throws<ArgumentException>(() => SequenceClassificationLoss.CrossEntropy(logits, torch.tensor(new long[] { 0, 1, 1 }), 2, "bert")).Message);
    }

    [Fact]
    public void MultiLabelNeedsLabelsShapedLikeTheLogits()
    {
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => SequenceClassificationLoss.Compute(torch.zeros(3, 4), torch.zeros(3, 2), 4, null, "vit"));
        Assert.Equal("vit: multi-label classification needs labels shaped like the logits [3, 4] but got [3, 2].", e.Message);
    }
}
