using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Hf;

/// <summary>
/// The activation names of HF's <c>ACT2FN</c> (transformers/activations.py) that the HF families here implement, with
/// HF's formulas, shared so BERT, ViT and wav2vec2 accept the same names and compute them the same way:
/// <c>gelu</c> = x·Φ(x) with the erf CDF (<c>GELUActivation</c>); <c>gelu_new</c> = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
/// computed term by term as HF's <c>NewGELUActivation</c> does; <c>gelu_pytorch_tanh</c> = the same approximation by
/// PyTorch's fused kernel (<c>gelu(x, approximate="tanh")</c>, HF's <c>PytorchGELUTanh</c>: equal in exact arithmetic,
/// a few ulps apart in float32); <c>relu</c>; <c>silu</c> and <c>swish</c> = x·σ(x).
/// </summary>
public static class HfActivation
{
    /// <summary>The names <see cref="Get"/> knows, in the order error messages list them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish"];

    private static readonly double SqrtTwoOverPi = Math.Sqrt(2.0 / Math.PI);

    /// <summary>The config-validation message for an unknown <paramref name="name"/>, or null when it is supported.</summary>
    public static string? Problem(string name) =>
        Names.Contains(name) ? null : $"'{name}' is not supported; use one of {string.Join(", ", Names)}";

    /// <summary>The activation for <paramref name="name"/>; an unknown name is an error naming the
    /// <paramref name="family"/> and the config <paramref name="field"/> it came from.</summary>
    public static Func<Tensor, Tensor> Get(string name, string family, string field) => name switch
    {
        "gelu" => x => nn.functional.gelu(x),
        "gelu_new" => x => 0.5 * x * (1.0 + torch.tanh(SqrtTwoOverPi * (x + 0.044715 * torch.pow(x, 3.0)))),
        "gelu_pytorch_tanh" => x => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "relu" => x => nn.functional.relu(x),
        "silu" or "swish" => x => nn.functional.silu(x),
        _ => throw new ArgumentException($"{family} config: {field} {Problem(name)}."),
    };
}
