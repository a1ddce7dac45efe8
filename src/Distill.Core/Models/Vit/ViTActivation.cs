using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// The feed-forward activations of HF's <c>ACT2FN</c> that ViT configs use, with HF's exact formulas:
/// <c>gelu</c> = x·Φ(x) (erf form, <c>nn.functional.gelu</c>); <c>gelu_new</c> = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
/// (HF's <c>NewGELUActivation</c>, computed term by term as HF does); <c>relu</c>; <c>silu</c>/<c>swish</c> = x·σ(x).
/// </summary>
internal static class ViTActivation
{
    public static Func<Tensor, Tensor> Get(string name) => name switch
    {
        "gelu" => x => nn.functional.gelu(x),
        "gelu_new" => GeluNew,
        "relu" => x => nn.functional.relu(x),
        "silu" or "swish" => x => nn.functional.silu(x),
        _ => throw new ArgumentException(
            $"ViT config: hidden_act '{name}' is not supported; use one of {string.Join(", ", ViTConfig.SupportedActivations)}."),
    };

    private static Tensor GeluNew(Tensor x) =>
        0.5 * x * (1.0 + torch.tanh(Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * torch.pow(x, 3.0))));
}
