using static TorchSharp.torch;

namespace Distill.Models.Hf;

/// <summary>
/// The loss of HF's <c>*ForSequenceClassification</c> / <c>*ForImageClassification</c> heads, chosen by
/// <c>problem_type</c>: <c>regression</c> = mean squared error (logits and labels squeezed when num_labels is 1),
/// <c>single_label_classification</c> = mean cross-entropy over the class ids (−100 ignored, PyTorch's default
/// <c>ignore_index</c>), <c>multi_label_classification</c> = mean BCE with logits. With no problem_type it is inferred
/// per batch as HF does: num_labels 1 → regression; int64/int32 labels → single-label; else multi-label. Bad labels are
/// refused with a message naming the family before libtorch sees them (a shape mismatch would broadcast or abort).
/// </summary>
public static class SequenceClassificationLoss
{
    public const string Regression = "regression", SingleLabel = "single_label_classification", MultiLabel = "multi_label_classification";

    /// <summary>The values of <c>problem_type</c>.</summary>
    public static IReadOnlyList<string> ProblemTypes { get; } = [Regression, SingleLabel, MultiLabel];

    /// <summary>The config-validation message for an unknown <paramref name="problemType"/>, or null when it is one of
    /// <see cref="ProblemTypes"/> or null (inferred).</summary>
    public static string? Problem(string? problemType) =>
        problemType is null || ProblemTypes.Contains(problemType) ? null
            : $"'{problemType}' is not one of {string.Join(", ", ProblemTypes)} (or omit it to infer)";

    /// <summary>The problem type used for <paramref name="labels"/>: <paramref name="problemType"/> if set, else HF's rule.</summary>
    public static string Resolve(string? problemType, int numLabels, Tensor labels) => problemType
        ?? (numLabels == 1 ? Regression
            : labels.dtype is ScalarType.Int64 or ScalarType.Int32 ? SingleLabel
            : MultiLabel);

    /// <summary>The loss of <paramref name="logits"/> (B, num_labels) against <paramref name="labels"/>.</summary>
    public static Tensor Compute(Tensor logits, Tensor labels, int numLabels, string? problemType, string family)
    {
        labels = labels.to(logits.device);
        long b = logits.shape[0];
        switch (Resolve(problemType, numLabels, labels))
        {
            case Regression:
                if (numLabels == 1)
                {
                    if (labels.numel() != b)
                        throw new ArgumentException($"{family}: regression with 1 label needs {b} labels (one per example) but got shape [{Shape(labels)}].");
                    return nn.functional.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype));
                }
                CheckSameShape(labels, logits, "regression", family);
                return nn.functional.mse_loss(logits, labels.to(logits.dtype));
            case SingleLabel:
                return CrossEntropy(logits, labels, numLabels, family);
            case MultiLabel:
                CheckSameShape(labels, logits, "multi-label classification", family);
                return nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype));
            case var other:
                throw new ArgumentException($"{family}: problem_type '{other}' is not one of {string.Join(", ", ProblemTypes)}.");
        }
    }

    /// <summary>Mean cross-entropy of <paramref name="logits"/> (B, num_labels) against one integer class id per example
    /// (−100 ignored), after checking the ids: what single-label classification computes, and the only loss of heads
    /// whose HF version ignores problem_type (wav2vec2).</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels, int numLabels, string family)
    {
        long b = logits.shape[0];
        if (labels.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte))
            throw new ArgumentException($"{family}: single-label classification needs integer class ids, not {labels.dtype} labels.");
        if (labels.numel() != b)
            throw new ArgumentException($"{family}: single-label classification needs {b} class ids (one per example) but labels have shape [{Shape(labels)}].");
        var flat = labels.to(logits.device).reshape(-1).to(ScalarType.Int64);
        var valid = flat.ne(-100);
        if (valid.any().item<bool>())
        {
            var kept = flat.masked_select(valid);
            long min = kept.min().item<long>(), max = kept.max().item<long>();
            if (min < 0 || max >= numLabels)
                throw new ArgumentException($"{family}: labels hold class ids in [{min}, {max}] but the model has num_labels {numLabels} (ids 0..{numLabels - 1}, or -100 to ignore).");
        }
        return nn.functional.cross_entropy(logits.view(-1, numLabels), flat);
    }

    private static void CheckSameShape(Tensor labels, Tensor logits, string what, string family)
    {
        if (!labels.shape.SequenceEqual(logits.shape))
            throw new ArgumentException($"{family}: {what} needs labels shaped like the logits [{Shape(logits)}] but got [{Shape(labels)}].");
    }

    private static string Shape(Tensor t) => string.Join(", ", t.shape);
}
