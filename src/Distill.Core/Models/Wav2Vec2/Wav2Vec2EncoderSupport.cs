using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>What both encoder variants share: HF's padding handling and LayerDrop.</summary>
internal static class Wav2Vec2EncoderSupport
{
    /// <summary>
    /// HF: hidden states at padded frames are set to 0 (before the positional conv, so padding does not leak into
    /// real frames through it), and the key mask becomes additive: (1 − m)·finfo(dtype).min, shape (B, 1, 1, T),
    /// broadcast over heads and queries.
    /// </summary>
    public static (Tensor Hidden, Tensor? Additive) ApplyMask(Tensor hidden, Tensor? featureMask)
    {
        if (featureMask is null) return (hidden, null);
        var keep = featureMask.to_type(ScalarType.Bool);                       // (B, T)
        var zeroed = hidden.masked_fill(keep.logical_not().unsqueeze(-1), 0.0); // (B, T, D)
        var additive = (1.0 - keep.to_type(hidden.dtype)).unsqueeze(1).unsqueeze(1)
                       * Wav2Vec2Init.MinValue(hidden.dtype);                  // (B, 1, 1, T)
        return (zeroed, additive);
    }

    /// <summary>LayerDrop (Fan et al. 2019): in training, each layer is skipped with probability <paramref name="layerDrop"/>
    /// (one draw per layer, as HF, on the generator's device; null = torch's global generator).</summary>
    public static bool Skip(bool training, double layerDrop, Generator? generator) =>
        training && layerDrop > 0 && torch.rand(1, device: generator?.device, generator: generator).item<float>() < layerDrop;

    /// <summary>A skipped layer has no attention map to return; rather than a hole in the list, refuse the combination up front.</summary>
    public static void CheckAttentionsWithLayerDrop(bool training, double layerDrop, bool outputAttentions)
    {
        if (training && layerDrop > 0 && outputAttentions)
            throw new InvalidOperationException(
                $"wav2vec2: attention maps were requested in training while layerdrop = {layerDrop}; a skipped layer has no attention map. " +
                "Set layerdrop: 0 in the model config of a student whose attentions are distilled.");
    }
}
