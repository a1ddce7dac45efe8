using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// HF's <c>ACT2FN</c> for the activation names wav2vec2 configs use. "gelu" is the exact erf form
/// x·Φ(x); "gelu_new" / "gelu_pytorch_tanh" are the tanh approximation
/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) written out as HF's <c>NewGELUActivation</c> does.
/// </summary>
internal static class Wav2Vec2Activations
{
    private static readonly double SqrtTwoOverPi = Math.Sqrt(2.0 / Math.PI);

    /// <summary>The activation for <paramref name="name"/>; <paramref name="field"/> names the config key in the error.</summary>
    public static Func<Tensor, Tensor> Get(string name, string field) => name switch
    {
        "gelu" => x => nn.functional.gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" => x => 0.5 * x * (1.0 + torch.tanh(SqrtTwoOverPi * (x + 0.044715 * torch.pow(x, 3.0)))),
        "relu" => x => nn.functional.relu(x),
        "silu" or "swish" => x => nn.functional.silu(x),
        _ => throw new ArgumentException(
            $"wav2vec2 config: {field} '{name}' is not supported; use one of {string.Join(", ", Wav2Vec2Config.SupportedActivations)}."),
    };
}
