using Distill.Models.Hf;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// wav2vec 2.0's relative position embedding (Baevski et al. 2020, §2): a grouped, weight-normalised Conv1d over time
/// (kernel num_conv_pos_embeddings, groups num_conv_pos_embedding_groups, padding K//2), trimmed back to T frames
/// (<see cref="Wav2Vec2SamePadLayer"/>), then the feat_extract_activation. The result is added to the hidden states.
/// Children: <c>conv</c> (<c>weight_g</c>, <c>weight_v</c>, <c>bias</c>), <c>padding</c>.
/// </summary>
public sealed class Wav2Vec2PositionalConvEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Wav2Vec2WeightNormConv1d conv;
    private readonly Wav2Vec2SamePadLayer padding;
    private readonly Func<Tensor, Tensor> _activation;

    public Wav2Vec2PositionalConvEmbedding(Wav2Vec2Config config) : base(nameof(Wav2Vec2PositionalConvEmbedding))
    {
        conv = new Wav2Vec2WeightNormConv1d(config.HiddenSize, config.NumConvPosEmbeddings,
            config.NumConvPosEmbeddingGroups, config.NumConvPosEmbeddings / 2);
        padding = new Wav2Vec2SamePadLayer(config.NumConvPosEmbeddings);
        _activation = HfActivation.Get(config.FeatExtractActivation, "wav2vec2", "feat_extract_activation");
        RegisterComponents();
    }

    /// <summary>(B, T, D) → (B, T, D).</summary>
    public override Tensor forward(Tensor hidden)
    {
        var h = hidden.transpose(1, 2); // (B, D, T)
        h = padding.call(conv.call(h));  // (B, D, T)
        return _activation(h).transpose(1, 2); // (B, T, D)
    }
}
