using Distill.Models.OnnxGraph;
using Onnx;

namespace Distill.Models.Bert;

/// <summary>
/// BertForSequenceClassification: inputs <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> (batch,
/// sequence) int64 → embeddings (word + token type, + positions 0..T−1 sliced from the table, LayerNorm) → post-norm
/// layers (attention with HF's additive dtype-min key mask, exact-erf GELU FFN) → pooler tanh(dense(h[:, 0])) →
/// classifier → <c>logits</c>. Each layer's head count and FFN width are read from its weights, so students with
/// pruned heads (<c>pruned_heads</c>) or a smaller <c>intermediate_size</c> export as they are.
/// </summary>
public sealed class BertOnnxExport : IOnnxFamilyExport
{
    public string Family => "bert";

    public void Build(DistillModel model, OnnxGraphBuilder g, OnnxExportOptions options)
    {
        var config = (BertConfig)model.Config;
        if (config.PositionEmbeddingType != "absolute")
            throw new OnnxExportException($"bert: position_embedding_type '{config.PositionEmbeddingType}' has no ONNX export; only 'absolute'.");
        const string p = "bert.";
        const TensorProto.Types.DataType int64 = TensorProto.Types.DataType.Int64;
        string ids = g.Input("input_ids", int64, "batch", "sequence");
        string mask = g.Input("attention_mask", int64, "batch", "sequence");
        string types = g.Input("token_type_ids", int64, "batch", "sequence");

        // Positions 0..T−1: the first T rows of the position table, broadcast over the batch.
        string length = g.Op("Slice", [g.Op("Shape", [ids]), g.Longs(1), g.Longs(2)]); // [T]
        string positions = g.SliceRows(p + "embeddings.position_embeddings.weight", length); // (T, D)
        string x = g.Op("Add", [g.Gather(p + "embeddings.word_embeddings.weight", ids),
                                g.Gather(p + "embeddings.token_type_embeddings.weight", types)]); // (B, T, D)
        x = g.LayerNorm(g.Op("Add", [x, positions]), p + "embeddings.LayerNorm", config.LayerNormEps);

        string additive = g.AdditiveKeyMask(mask); // (B, 1, 1, T)
        int headDim = config.HeadDim;
        for (int l = 0; l < config.NumHiddenLayers; l++)
        {
            string layer = $"{p}encoder.layer.{l}.";
            int heads = (int)(g.Weight(layer + "attention.self.query.weight").shape[0] / headDim);
            string context = g.SelfAttention(x, layer + "attention.self.query", layer + "attention.self.key", layer + "attention.self.value",
                heads, headDim, additive, scaleQuery: false);
            string attended = g.LayerNorm(g.Op("Add", [g.Linear(context, layer + "attention.output.dense"), x]), layer + "attention.output.LayerNorm", config.LayerNormEps);
            string inter = g.Activation(g.Linear(attended, layer + "intermediate.dense"), config.HiddenAct);
            x = g.LayerNorm(g.Op("Add", [g.Linear(inter, layer + "output.dense"), attended]), layer + "output.LayerNorm", config.LayerNormEps);
        }
        string cls = g.Op("Gather", [x, g.LongScalar(0)], OnnxGraphBuilder.Int("axis", 1)); // (B, D)
        string pooled = g.Op("Tanh", [g.Linear(cls, p + "pooler.dense")]);
        g.Output(g.Linear(pooled, "classifier"), "logits", "batch", model.NumLabels);
    }

    public IReadOnlyList<string> EmbeddingTables(DistillModel model) =>
        ["bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight", "bert.embeddings.token_type_embeddings.weight"];
}
