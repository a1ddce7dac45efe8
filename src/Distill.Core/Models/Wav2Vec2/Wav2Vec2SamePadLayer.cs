using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Restores the input length after the positional conv: padding K//2 on both sides gives T + 1 frames when K is
/// even, so the last frame is removed; odd K leaves T frames and nothing is removed.
/// </summary>
public sealed class Wav2Vec2SamePadLayer : nn.Module<Tensor, Tensor>
{
    private readonly long _remove;

    public Wav2Vec2SamePadLayer(long numConvPosEmbeddings) : base(nameof(Wav2Vec2SamePadLayer))
    {
        _remove = numConvPosEmbeddings % 2 == 0 ? 1 : 0;
        RegisterComponents();
    }

    /// <summary>(B, C, T') → (B, C, T' − remove).</summary>
    public override Tensor forward(Tensor x) =>
        _remove > 0 ? x.narrow(2, 0, x.shape[2] - _remove) : x;
}
