using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// HF's <c>ViTPreTrainedModel._init_weights</c> for fresh models: Linear and Conv2d weights, the CLS token and the
/// position embeddings ~ N(0, initializer_range²) truncated to [−2, 2]; biases 0; LayerNorm weight 1, bias 0.
/// The truncated normal is PyTorch's inverse-CDF method (uniform on [2Φ(a/σ)−1, 2Φ(b/σ)−1], erfinv, ·σ√2, clamp):
/// TorchSharp 0.107's <c>nn.init.trunc_normal_</c> returns a near-constant tensor (measured std 4e-9 for σ = 0.05).
/// </summary>
internal static class ViTWeightInit
{
    public static void Apply(nn.Module root, double std)
    {
        using var _ = torch.no_grad();
        foreach (var (_, module) in root.named_modules())
        {
            switch (module)
            {
                case Linear linear:
                    TruncNormal(linear.weight, std);
                    linear.bias?.zero_();
                    break;
                case Conv2d conv:
                    TruncNormal(conv.weight, std);
                    conv.bias?.zero_();
                    break;
                case LayerNorm norm:
                    norm.weight?.fill_(1.0);
                    norm.bias?.zero_();
                    break;
                case ViTEmbeddings embeddings:
                    TruncNormal(embeddings.PositionEmbeddings, std);
                    TruncNormal(embeddings.ClsToken, std);
                    break;
            }
        }
    }

    /// <summary>In place: N(0, std²) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_).</summary>
    internal static void TruncNormal(Tensor tensor, double std, double a = -2.0, double b = 2.0)
    {
        if (std == 0) { tensor.zero_(); return; }
        double lo = NormCdf(a / std), hi = NormCdf(b / std);
        ParamInit.Uniform_(tensor, 2 * lo - 1, 2 * hi - 1).erfinv_().mul_(std * Math.Sqrt(2.0)).clamp_(a, b);
    }

    private static double NormCdf(double x)
    {
        // Explicitly on the CPU: a default device other than CPU must not change the initial values.
        using var t = torch.tensor(x / Math.Sqrt(2.0), ScalarType.Float64, device: torch.CPU);
        using var e = torch.erf(t);
        return (1.0 + e.item<double>()) / 2.0;
    }
}
