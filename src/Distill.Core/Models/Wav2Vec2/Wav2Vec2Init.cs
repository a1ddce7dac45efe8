using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// HF's <c>Wav2Vec2PreTrainedModel._init_weights</c> for freshly built models (loading a checkpoint overwrites it):
/// Linear weights ~ N(0, initializer_range²) with zero bias; LayerNorm / GroupNorm weight 1, bias 0;
/// feature-encoder Conv1d Kaiming-normal with bias ~ U(±√(groups / (in·k))).
/// The feature projection and the positional conv have their own rules (see those modules).
/// </summary>
internal static class Wav2Vec2Init
{
    public static void Linear(Linear linear, double std)
    {
        using var _ = torch.no_grad();
        ParamInit.Normal_(linear.weight, 0.0, std);
        if (linear.bias is { } b) nn.init.zeros_(b);
    }

    /// <summary>A LayerNorm over the last dimension with weight 1 and bias 0.</summary>
    public static LayerNorm LayerNorm(long dim, double eps)
    {
        var norm = nn.LayerNorm(dim, eps: eps, elementwise_affine: true);
        Norm(norm.weight, norm.bias);
        return norm;
    }

    /// <summary>
    /// A GroupNorm with weight 1 and bias 0. Set explicitly: TorchSharp 0.107's GroupNorm leaves its affine
    /// parameters uninitialised (measured: garbage values, sometimes NaN, in a fresh module).
    /// </summary>
    public static GroupNorm GroupNorm(long groups, long channels, double eps)
    {
        var norm = nn.GroupNorm(groups, channels, eps: eps, affine: true);
        Norm(norm.weight, norm.bias);
        return norm;
    }

    private static void Norm(Tensor? weight, Tensor? bias)
    {
        using var _ = torch.no_grad();
        if (weight is not null) nn.init.ones_(weight);
        if (bias is not null) nn.init.zeros_(bias);
    }

    public static void Conv(Conv1d conv, long inChannels, long kernel, long groups = 1)
    {
        using var _ = torch.no_grad();
        ParamInit.KaimingNormal_(conv.weight);
        if (conv.bias is { } b)
        {
            double k = Math.Sqrt((double)groups / (inChannels * kernel));
            ParamInit.Uniform_(b, -k, k);
        }
    }

    /// <summary><c>torch.finfo(dtype).min</c>: the additive value that removes a key from the softmax.</summary>
    public static double MinValue(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => float.MinValue,
        ScalarType.Float64 => double.MinValue,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        ScalarType.Float16 => -65504.0,
        _ => throw new ArgumentException($"wav2vec2: hidden states must be floating point, got {dtype}."),
    };
}
