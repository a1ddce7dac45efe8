using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// Dropout (an <c>nn.Dropout</c> in HF's modules: no parameters, so state dicts are unchanged) whose mask comes from
/// <see cref="Generator"/>: TorchSharp's dropout takes no generator. On the CPU the mask is drawn as ATen's dropout draws
/// it (<c>empty_like(x).bernoulli_(1 − p)</c>, scaled by 1/(1 − p)), so a generator seeded with s gives the masks
/// <c>torch.manual_seed(s)</c> gave; on CUDA ATen uses a fused kernel whose masks differ (same distribution).
/// </summary>
public sealed class SeededDropout(double p) : nn.Module<Tensor, Tensor>("Dropout"), IStochasticModule
{
    public double P { get; } = p is >= 0 and <= 1 ? p : throw new ArgumentOutOfRangeException(nameof(p), p, "A dropout probability is in [0, 1].");

    public Generator? Generator { get; set; }

    public override Tensor forward(Tensor input) => Apply(input, P, training, Generator);

    /// <summary>Functional dropout with an optional generator (null: <c>nn.functional.dropout</c> on the global generator).</summary>
    public static Tensor Apply(Tensor input, double p, bool training, Generator? generator)
    {
        if (!training || p == 0 || input.numel() == 0) return input;
        if (generator is null) return nn.functional.dropout(input, p, training);
        if (p == 1) return input * torch.zeros_like(input);
        var noise = torch.empty_like(input).bernoulli_(1 - p, generator);
        noise.div_(1 - p);
        return input * noise;
    }
}
