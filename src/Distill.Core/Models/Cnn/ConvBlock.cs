using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Cnn;

/// <summary>conv3×3 (padding 1) → BatchNorm2d → ReLU → 2×2 max-pool. Paths: <c>conv</c>, <c>norm</c>.</summary>
public sealed class ConvBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d norm;

    public ConvBlock(int inChannels, int outChannels) : base("conv_block")
    {
        conv = ParamInit.Redraw(nn.Conv2d(inChannels, outChannels, 3, padding: 1, bias: false));
        norm = nn.BatchNorm2d(outChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) =>
        nn.functional.max_pool2d(nn.functional.relu(norm.call(conv.call(x))), 2); // (B, C_out, H/2, W/2)
}
