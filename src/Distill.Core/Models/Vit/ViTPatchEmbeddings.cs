using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// Cuts the image into non-overlapping patch_size² patches and projects each to hidden_size with one Conv2d whose
/// stride equals its kernel (the linear patch embedding of the ViT paper). Path: <c>projection</c>.
/// (B, C, H, W) → (B, (H/P)·(W/P), D), patches in row-major order.
/// </summary>
public sealed class ViTPatchEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d projection;
    private readonly int _imageSize;
    private readonly int _numChannels;

    public ViTPatchEmbeddings(ViTConfig config) : base("ViTPatchEmbeddings")
    {
        _imageSize = config.ImageSize;
        _numChannels = config.NumChannels;
        NumPatches = config.PatchesPerSide * config.PatchesPerSide;
        projection = ParamInit.Redraw(nn.Conv2d(config.NumChannels, config.HiddenSize, config.PatchSize, stride: config.PatchSize));
        RegisterComponents();
    }

    /// <summary>(image_size / patch_size)².</summary>
    public int NumPatches { get; }

    public override Tensor forward(Tensor pixelValues)
    {
        if (pixelValues.dim() != 4)
            throw new ArgumentException(
                $"vit: pixel_values must be (B, C, H, W), got shape ({string.Join(", ", pixelValues.shape)}).");
        if (pixelValues.shape[1] != _numChannels)
            throw new ArgumentException(
                $"vit: pixel_values have {pixelValues.shape[1]} channels but config.num_channels is {_numChannels}. " +
                "Make sure the channel dimension of the pixel values matches the one set in the configuration.");
        if (pixelValues.shape[2] != _imageSize || pixelValues.shape[3] != _imageSize)
            throw new ArgumentException(
                $"vit: input image size ({pixelValues.shape[2]}*{pixelValues.shape[3]}) doesn't match the model ({_imageSize}*{_imageSize}). " +
                "Position-embedding interpolation is not supported: resize the images to config.image_size (the image processor's size) first.");
        return projection.call(pixelValues).flatten(2).transpose(1, 2); // (B, D, H/P, W/P) → (B, N, D)
    }
}
