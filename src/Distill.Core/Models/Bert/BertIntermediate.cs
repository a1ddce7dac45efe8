using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>
/// First half of the feed-forward block: act(dense(h)), D → intermediate_size. The activation follows
/// <c>hidden_act</c> exactly as HF's <c>ACT2FN</c>: <c>gelu</c> = x·Φ(x) with the erf CDF; <c>gelu_new</c> =
/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) computed term by term; <c>gelu_pytorch_tanh</c> = PyTorch's
/// tanh-approximate GELU kernel; <c>relu</c>; <c>silu</c>/<c>swish</c> = x·σ(x). Name: <c>dense</c>.
/// </summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Func<Tensor, Tensor> _act;

    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        _act = Activation(config.HiddenAct);
        RegisterComponents();
    }

    /// <summary>(B, T, D) → (B, T, intermediate_size)</summary>
    public override Tensor forward(Tensor hidden) => _act(dense.call(hidden));

    /// <summary>The activation for a <c>hidden_act</c> value (internal for tests).</summary>
    internal static Func<Tensor, Tensor> Activation(string name) => name switch
    {
        "gelu" => x => nn.functional.gelu(x),
        "gelu_new" => x => 0.5 * x * (1.0 + torch.tanh(Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * torch.pow(x, 3.0)))),
        "gelu_pytorch_tanh" => x => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "relu" => x => nn.functional.relu(x),
        "silu" or "swish" => x => nn.functional.silu(x),
        _ => throw new ArgumentException(
            $"bert config: key 'hidden_act' is '{name}', which is not supported; use one of {string.Join(", ", BertConfig.SupportedActivations)}."),
    };
}
