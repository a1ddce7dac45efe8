using Distill.Models.OnnxGraph;
using Onnx;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// wav2vec2 with a CTC head (<c>logits</c> (batch, frames, vocab)) or a sequence-classification head (<c>logits</c>
/// (batch, num_labels)): <c>input_values</c> (batch, samples) → conv feature encoder ("group": InstanceNormalization on
/// the first layer, which is GroupNorm with one group per channel; "layer": LayerNormalization over channels per
/// frame) → feature projection → positional conv (weight-normalised kernel folded at export) → post-norm or pre-norm
/// ("stable") layers → head. With an <c>attention_mask</c> (batch, samples) input, frame lengths follow the conv
/// length formula, padded frames are zeroed before the encoder, masked out of attention and out of the mean pooling,
/// as the model does. FFN widths come from the weights (pruned students).
/// </summary>
public sealed class Wav2Vec2OnnxExport : IOnnxFamilyExport
{
    public string Family => "wav2vec2";

    public void Build(DistillModel model, OnnxGraphBuilder g, OnnxExportOptions options)
    {
        var config = (Wav2Vec2Config)model.Config;
        if (config.AddAdapter) throw new OnnxExportException("wav2vec2: add_adapter models have no ONNX export here.");
        bool ctc = model is Wav2Vec2ForCTC;
        if (!ctc && model is not Wav2Vec2ForSequenceClassification)
            throw new OnnxExportException($"wav2vec2: no ONNX export for head {model.GetType().Name}.");
        const string p = "wav2vec2.";
        string audio = g.Input("input_values", TensorProto.Types.DataType.Float, "batch", "samples");
        bool masked = options.AudioAttentionMask ?? config.FeatExtractNorm == "layer";
        string? mask = masked ? g.Input("attention_mask", TensorProto.Types.DataType.Int64, "batch", "samples") : null;

        // Feature encoder: (B, L) → (B, 1, L) → (B, C, T).
        string h = g.Op("Unsqueeze", [audio, g.Longs(1)]);
        for (int i = 0; i < config.NumConvLayers; i++)
        {
            string layer = $"{p}feature_extractor.conv_layers.{i}.";
            h = g.Conv(h, layer + "conv", strides: [config.ConvStride[i]], pads: [0, 0]);
            if (config.FeatExtractNorm == "group" && i == 0)
                h = g.Op("InstanceNormalization", [h, g.Initializer(layer + "layer_norm.weight"), g.Initializer(layer + "layer_norm.bias")], OnnxGraphBuilder.Float("epsilon", 1e-5f));
            else if (config.FeatExtractNorm == "layer")
                h = Channels(g, g.LayerNorm(Frames(g, h), layer + "layer_norm", 1e-5));
            h = g.Activation(h, config.FeatExtractActivation);
        }
        string features = Frames(g, h); // (B, T, C)
        string hidden = g.Linear(g.LayerNorm(features, p + "feature_projection.layer_norm", config.LayerNormEps), p + "feature_projection.projection"); // (B, T, D)

        string? keep = null, additive = null;
        if (mask is not null)
        {
            keep = FrameMask(g, config, mask, hidden);                                  // (B, T) bool
            hidden = g.Op("Where", [g.Op("Unsqueeze", [keep, g.Longs(-1)]), hidden, g.Scalar(0f)]);
            additive = g.AdditiveKeyMask(keep);                                         // (B, 1, 1, T)
        }

        string e = p + "encoder.";
        hidden = g.Op("Add", [hidden, PositionalConv(g, config, hidden, e + "pos_conv_embed.conv")]);
        if (!config.DoStableLayerNorm) hidden = g.LayerNorm(hidden, e + "layer_norm", config.LayerNormEps);
        var states = new List<string>();
        int heads = config.NumAttentionHeads, headDim = config.HiddenSize / config.NumAttentionHeads;
        for (int l = 0; l < config.NumHiddenLayers; l++)
        {
            states.Add(hidden);
            string layer = $"{e}layers.{l}.";
            string a = layer + "attention.";
            if (config.DoStableLayerNorm)
            {
                string attn = Attention(g, g.LayerNorm(hidden, layer + "layer_norm", config.LayerNormEps), a, heads, headDim, additive);
                hidden = g.Op("Add", [hidden, attn]);
                hidden = g.Op("Add", [hidden, FeedForward(g, config, g.LayerNorm(hidden, layer + "final_layer_norm", config.LayerNormEps), layer + "feed_forward.")]);
            }
            else
            {
                hidden = g.LayerNorm(g.Op("Add", [hidden, Attention(g, hidden, a, heads, headDim, additive)]), layer + "layer_norm", config.LayerNormEps);
                hidden = g.LayerNorm(g.Op("Add", [hidden, FeedForward(g, config, hidden, layer + "feed_forward.")]), layer + "final_layer_norm", config.LayerNormEps);
            }
        }
        if (config.DoStableLayerNorm) hidden = g.LayerNorm(hidden, e + "layer_norm", config.LayerNormEps);
        states.Add(hidden);

        if (ctc)
        {
            g.Output(g.Linear(hidden, "lm_head"), "logits", "batch", "frames", model.NumLabels);
            return;
        }
        if (config.UseWeightedLayerSum)
        {
            // Σ_l softmax(w)_l · state_l, the weights folded from the layer_weights parameter.
            var w = g.Weight("layer_weights").softmax(-1).data<float>().ToArray();
            g.MarkUsed("layer_weights");
            hidden = g.Op("Mul", [states[0], g.Scalar(w[0])]);
            for (int l = 1; l < states.Count; l++) hidden = g.Op("Add", [hidden, g.Op("Mul", [states[l], g.Scalar(w[l])])]);
        }
        string projected = g.Linear(hidden, "projector"); // (B, T, P)
        string pooled;
        if (keep is null) pooled = g.ReduceMean(projected, [1], keepDims: false); // (B, P)
        else
        {
            string sum = g.ReduceSum(g.Op("Where", [g.Op("Unsqueeze", [keep, g.Longs(-1)]), projected, g.Scalar(0f)]), [1], keepDims: false);
            string count = g.ReduceSum(g.Op("Cast", [keep], OnnxGraphBuilder.Int("to", (long)TensorProto.Types.DataType.Float)), [1], keepDims: true); // (B, 1)
            pooled = g.Op("Div", [sum, count]);
        }
        g.Output(g.Linear(pooled, "classifier"), "logits", "batch", model.NumLabels);
    }

    /// <summary>(B, C, T) → (B, T, C).</summary>
    private static string Frames(OnnxGraphBuilder g, string x) => g.Op("Transpose", [x], OnnxGraphBuilder.Ints("perm", 0, 2, 1));

    /// <summary>(B, T, C) → (B, C, T).</summary>
    private static string Channels(OnnxGraphBuilder g, string x) => g.Op("Transpose", [x], OnnxGraphBuilder.Ints("perm", 0, 2, 1));

    /// <summary>HF's feature-vector mask: frame t of row b is real when t &lt; f(Σ mask_b), f = floor((l − k)/s) + 1 per conv layer.</summary>
    private static string FrameMask(OnnxGraphBuilder g, Wav2Vec2Config config, string mask, string hidden)
    {
        string lengths = g.ReduceSum(mask, [1], keepDims: false); // (B,) int64 samples
        for (int i = 0; i < config.NumConvLayers; i++)
            // Integer Div truncates; l ≥ k (every clip has at least one frame), so truncation is the floor.
            lengths = g.Op("Add", [g.Op("Div", [g.Op("Sub", [lengths, g.Longs(config.ConvKernel[i])]), g.Longs(config.ConvStride[i])]), g.Longs(1)]);
        string frames = g.Op("Gather", [g.Op("Shape", [hidden]), g.LongScalar(1)]); // scalar T
        string positions = g.Op("Range", [g.LongScalar(0), frames, g.LongScalar(1)]); // (T,)
        return g.Op("Less", [g.Op("Unsqueeze", [positions, g.Longs(0)]), g.Op("Unsqueeze", [lengths, g.Longs(1)])]); // (B, T)
    }

    /// <summary>The grouped positional conv over time with its weight-normalised kernel v·g/‖v‖ folded, trimmed to T frames, activated.</summary>
    private static string PositionalConv(OnnxGraphBuilder g, Wav2Vec2Config config, string hidden, string module)
    {
        var v = g.Weight(module + ".weight_v");
        var gain = g.Weight(module + ".weight_g");
        // The same expression as the module's Weight(): ‖v‖₂ over dims 0 and 1 per kernel position.
        var weight = v * (gain / v.pow(2).sum([0, 1], keepdim: true).sqrt());
        g.MarkUsed(module + ".weight_v");
        g.MarkUsed(module + ".weight_g");
        int k = config.NumConvPosEmbeddings;
        string h = g.Conv(Channels(g, hidden), module, strides: [1], pads: [k / 2, k / 2], group: config.NumConvPosEmbeddingGroups,
            weight: g.Folded(module + ".weight", weight)); // (B, D, T + 1 − k%2)
        if (k % 2 == 0) h = g.Op("Slice", [h, g.Longs(0), g.Longs(-1), g.Longs(2)]); // drop the extra frame
        return Frames(g, g.Activation(h, config.FeatExtractActivation));
    }

    private static string Attention(OnnxGraphBuilder g, string x, string a, int heads, int headDim, string? additive)
    {
        string context = g.SelfAttention(x, a + "q_proj", a + "k_proj", a + "v_proj", heads, headDim, additive, scaleQuery: true);
        return g.Linear(context, a + "out_proj");
    }

    private static string FeedForward(OnnxGraphBuilder g, Wav2Vec2Config config, string x, string f) =>
        g.Linear(g.Activation(g.Linear(x, f + "intermediate_dense"), config.HiddenAct), f + "output_dense");
}
