using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>
/// BERT input embeddings: word + token-type (segment) + absolute position embeddings, summed in HF's order
/// ((word + token_type) + position), then LayerNorm and dropout. Positions are 0..T−1; missing token_type_ids mean
/// all zeros (one segment). Parameter names match HF: <c>word_embeddings</c>, <c>position_embeddings</c>,
/// <c>token_type_embeddings</c>, <c>LayerNorm</c>. No <c>position_ids</c> buffer is registered (HF's is non-persistent).
/// </summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
#pragma warning disable IDE1006 // HF's parameter name
    private readonly LayerNorm LayerNorm;
#pragma warning restore IDE1006
    private readonly SeededDropout dropout;

    public BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        word_embeddings = ParamInit.Embedding(config.VocabSize, config.HiddenSize, config.PadTokenId);
        position_embeddings = ParamInit.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = ParamInit.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = new SeededDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <param name="inputIds">(B, T) int64 token ids, already checked by <see cref="BertModel"/>.</param>
    /// <param name="tokenTypeIds">(B, T) int64 segment ids, or null for all zeros.</param>
    /// <returns>(B, T, D)</returns>
    public override Tensor forward(Tensor inputIds, Tensor? tokenTypeIds)
    {
        long seqLength = inputIds.shape[1];
        tokenTypeIds ??= torch.zeros_like(inputIds);
        var positionIds = torch.arange(seqLength, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0); // (1, T)
        var embeddings = word_embeddings.call(inputIds) + token_type_embeddings.call(tokenTypeIds); // (B, T, D)
        embeddings = embeddings + position_embeddings.call(positionIds); // (B, T, D) + (1, T, D)
        return dropout.call(LayerNorm.call(embeddings));
    }
}
