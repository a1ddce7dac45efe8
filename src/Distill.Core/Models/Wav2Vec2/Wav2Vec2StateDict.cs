using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Key spellings of wav2vec2 checkpoints. PyTorch ≥ 2.1 saves the weight-normalised positional conv as
/// <c>pos_conv_embed.conv.parametrizations.weight.original0</c> (= g) and <c>.original1</c> (= v); older
/// versions and Distill use the legacy <c>weight_g</c> / <c>weight_v</c>. Both describe the same tensors.
/// </summary>
public static class Wav2Vec2StateDict
{
    private const string NewG = "pos_conv_embed.conv.parametrizations.weight.original0";
    private const string NewV = "pos_conv_embed.conv.parametrizations.weight.original1";
    private const string OldG = "pos_conv_embed.conv.weight_g";
    private const string OldV = "pos_conv_embed.conv.weight_v";

    /// <summary>
    /// A copy of <paramref name="stateDict"/> with parametrization names mapped to the legacy names this model
    /// registers. Throws when both spellings of the same tensor are present (which one is meant would be a guess).
    /// </summary>
    public static Dictionary<string, Tensor> Normalize(IReadOnlyDictionary<string, Tensor> stateDict)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in stateDict)
        {
            string mapped = key.EndsWith(NewG, StringComparison.Ordinal) ? key[..^NewG.Length] + OldG
                : key.EndsWith(NewV, StringComparison.Ordinal) ? key[..^NewV.Length] + OldV
                : key;
            if (mapped != key && stateDict.ContainsKey(mapped))
                throw new ArgumentException($"wav2vec2 state dict holds both '{key}' and '{mapped}', two spellings of one tensor; keep one.");
            result[mapped] = value;
        }
        return result;
    }
}
