using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>Shared checks of the loss factories and terms: shape text, layer resolution, feature look-up, token masks.</summary>
internal static class LossHelpers
{
    public static string Shape(long[] shape) => "(" + string.Join(", ", shape) + ")";

    public static string Shape(Tensor t) => Shape(t.shape);

    /// <summary>Resolves a mapping for a build, turning a misfit into <see cref="LossConfigException"/> at <c>layers</c>.</summary>
    public static IReadOnlyList<(int Student, int Teacher)> ResolveLayers(
        LayerMapping mapping, int studentLayers, int teacherLayers, bool allowEmbedding)
    {
        try
        {
            return mapping.Resolve(studentLayers, teacherLayers, allowEmbedding);
        }
        catch (ArgumentException e)
        {
            throw new LossConfigException("layers", e.Message);
        }
    }

    /// <summary>The tapped feature at <paramref name="path"/>; a missing tap is a wiring error of the trainer.</summary>
    public static Tensor Feature(IReadOnlyDictionary<string, Tensor> features, string path, string who, string term) =>
        features.TryGetValue(path, out var t)
            ? t
            : throw new InvalidOperationException(
                $"Loss term '{term}' reads the {who} module '{path}', but no feature was tapped there in this step " +
                $"(tapped: [{string.Join(", ", features.Keys)}]). The module must be called through .call(...) so its forward hook fires.");

    /// <summary>The layer's hidden state from a model output, with a clear error when the model returned too few.</summary>
    public static Tensor Layer(IReadOnlyList<Tensor> states, int index, string who, string what, string term) =>
        index < states.Count
            ? states[index]
            : throw new InvalidOperationException(
                $"Loss term '{term}' needs {what} entry {index} of the {who}, but the {who} returned {states.Count}.");

    /// <summary>Throws when two tensors that a loss compares elementwise differ in shape (mse_loss would broadcast silently).</summary>
    public static void SameShape(Tensor student, Tensor teacher, string term, string what)
    {
        if (!student.shape.SequenceEqual(teacher.shape))
            throw new InvalidOperationException(
                $"Loss term '{term}': {what} has shape {Shape(student)} on the student side but {Shape(teacher)} on the teacher side; " +
                "both models must see the same batch (same sequence length and image size).");
    }

    /// <summary>
    /// The batch's <c>attention_mask</c> as a float (B, T) tensor of 1 (real token) and 0 (padding), or null when the
    /// batch has none. A mask whose shape is not (B, T) of the compared features is an error: it cannot be applied, and
    /// ignoring it would silently count padding.
    /// </summary>
    public static Tensor? TokenMask(Distill.Models.Batch batch, long batchSize, long tokens, string term, Device device)
    {
        var mask = batch.Optional("attention_mask");
        if (mask is null) return null;
        if (mask.dim() != 2 || mask.shape[0] != batchSize || mask.shape[1] != tokens)
            throw new InvalidOperationException(
                $"Loss term '{term}': the batch's attention_mask has shape {Shape(mask)} but the compared sequences are ({batchSize}, {tokens}) " +
                "(batch, tokens), so padded positions cannot be masked. This happens when the mask is over raw inputs rather than the " +
                "model's token/frame sequence (wav2vec2 audio); remove the term or pad to equal length without a mask.");
        return mask.to(device).to_type(ScalarType.Float32);
    }

    /// <summary>Float32 view of a low-precision tensor so that reductions accumulate in float32; other dtypes unchanged.</summary>
    /// <summary>The soft-target terms' settings: a finite positive temperature and a mixing weight in [0, 1].</summary>
    public static void CheckTemperatureAndAlpha(double temperature, double alpha)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a positive number.");
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in [0, 1].");
    }

    public static Tensor Float(Tensor t) =>
        t.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? t.to_type(ScalarType.Float32) : t;
}
