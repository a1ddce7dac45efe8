using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// HF's <c>ViTPreTrainedModel._init_weights</c> for fresh models: Linear and Conv2d weights, the CLS token and the
/// position embeddings ~ N(0, initializer_range²) truncated to [−2, 2]; biases 0; LayerNorm weight 1, bias 0.
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
                    nn.init.trunc_normal_(linear.weight, 0.0, std, -2.0, 2.0);
                    linear.bias?.zero_();
                    break;
                case Conv2d conv:
                    nn.init.trunc_normal_(conv.weight, 0.0, std, -2.0, 2.0);
                    conv.bias?.zero_();
                    break;
                case LayerNorm norm:
                    norm.weight?.fill_(1.0);
                    norm.bias?.zero_();
                    break;
                case ViTEmbeddings embeddings:
                    nn.init.trunc_normal_(embeddings.PositionEmbeddings, 0.0, std, -2.0, 2.0);
                    nn.init.trunc_normal_(embeddings.ClsToken, 0.0, std, -2.0, 2.0);
                    break;
            }
        }
    }
}
