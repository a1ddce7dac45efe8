using Distill.Models.OnnxGraph;
using Onnx;

namespace Distill.Models.Vit;

/// <summary>
/// ViTForImageClassification: <c>pixel_values</c> (batch, C, H, W) → patch Conv (kernel = stride = patch) →
/// (B, N, D) → [CLS; patches] + position embeddings → pre-norm layers → final LayerNorm → classifier on the CLS token
/// → <c>logits</c>. Head counts and FFN widths are read from the weights (pruned students).
/// </summary>
public sealed class VitOnnxExport : IOnnxFamilyExport
{
    public string Family => "vit";

    public void Build(DistillModel model, OnnxGraphBuilder g, OnnxExportOptions options)
    {
        var config = (ViTConfig)model.Config;
        const string p = "vit.";
        string pixels = g.Input("pixel_values", TensorProto.Types.DataType.Float, "batch", config.NumChannels, config.ImageSize, config.ImageSize);
        string patches = g.Conv(pixels, p + "embeddings.patch_embeddings.projection", strides: [config.PatchSize, config.PatchSize], pads: [0, 0, 0, 0]); // (B, D, h, w)
        patches = g.Op("Transpose", [g.Op("Reshape", [patches, g.Longs(0, config.HiddenSize, -1)])], OnnxGraphBuilder.Ints("perm", 0, 2, 1)); // (B, N, D)
        string batch = g.Op("Slice", [g.Op("Shape", [pixels]), g.Longs(0), g.Longs(1)]); // [B]
        string cls = g.Op("Expand", [g.Initializer(p + "embeddings.cls_token"), g.Op("Concat", [batch, g.Longs(1, config.HiddenSize)], OnnxGraphBuilder.Int("axis", 0))]); // (B, 1, D)
        string x = g.Op("Add", [g.Op("Concat", [cls, patches], OnnxGraphBuilder.Int("axis", 1)), g.Initializer(p + "embeddings.position_embeddings")]); // (B, N+1, D)

        int headDim = config.HeadDim;
        for (int l = 0; l < config.NumHiddenLayers; l++)
        {
            string layer = $"{p}encoder.layer.{l}.";
            int heads = (int)(g.Weight(layer + "attention.attention.query.weight").shape[0] / headDim);
            string normed = g.LayerNorm(x, layer + "layernorm_before", config.LayerNormEps);
            string context = g.SelfAttention(normed, layer + "attention.attention.query", layer + "attention.attention.key", layer + "attention.attention.value",
                heads, headDim, additiveMask: null, scaleQuery: false);
            x = g.Op("Add", [g.Linear(context, layer + "attention.output.dense"), x]);
            string inter = g.Activation(g.Linear(g.LayerNorm(x, layer + "layernorm_after", config.LayerNormEps), layer + "intermediate.dense"), config.HiddenAct);
            x = g.Op("Add", [g.Linear(inter, layer + "output.dense"), x]);
        }
        x = g.LayerNorm(x, p + "layernorm", config.LayerNormEps);
        string token = g.Op("Gather", [x, g.LongScalar(0)], OnnxGraphBuilder.Int("axis", 1)); // (B, D)
        g.Output(g.Linear(token, "classifier"), "logits", "batch", model.NumLabels);
    }
}
