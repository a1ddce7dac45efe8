using Distill.Models;
using TorchSharp;

namespace Distill.Compression;

/// <summary>Counts reported in summary.json by the compression stages.</summary>
public static class CompressionStats
{
    /// <summary>Non-zero entries over all parameters of the model.</summary>
    public static long NonZeros(DistillModel model)
    {
        using var _ = torch.no_grad();
        return model.parameters().Sum(p => p.count_nonzero().item<long>());
    }

    /// <summary>Bytes of the model's parameters stored densely as float32 (the reference size for compression ratios).</summary>
    public static long Fp32Bytes(DistillModel model) => model.parameters().Sum(p => p.numel()) * 4;
}
