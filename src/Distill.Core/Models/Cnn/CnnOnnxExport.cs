using Distill.Models.OnnxGraph;
using Onnx;

namespace Distill.Models.Cnn;

/// <summary>
/// CNN: per block Conv 3×3 (pad 1, no bias) → BatchNormalization (running statistics, eps 1e-5) → ReLU → MaxPool 2×2,
/// then Flatten → fc → ReLU → classifier. Channel counts come from the weights, so channel-pruned students export as
/// they are.
/// </summary>
public sealed class CnnOnnxExport : IOnnxFamilyExport
{
    public string Family => "cnn";

    public void Build(DistillModel model, OnnxGraphBuilder g, OnnxExportOptions options)
    {
        var config = (CnnConfig)model.Config;
        string x = g.Input("pixel_values", TensorProto.Types.DataType.Float, "batch", config.InChannels, config.ImageSize, config.ImageSize);
        for (int i = 0; i < config.Channels.Count; i++)
        {
            string p = $"blocks.{i}.";
            x = g.Conv(x, p + "conv", strides: [1, 1], pads: [1, 1, 1, 1]);
            x = g.Op("BatchNormalization",
                [x, g.Initializer(p + "norm.weight"), g.Initializer(p + "norm.bias"), g.Initializer(p + "norm.running_mean"), g.Initializer(p + "norm.running_var")],
                OnnxGraphBuilder.Float("epsilon", 1e-5f));
            x = g.Op("MaxPool", [g.Op("Relu", [x])], OnnxGraphBuilder.Ints("kernel_shape", 2, 2), OnnxGraphBuilder.Ints("strides", 2, 2)); // (B, C, H/2, W/2)
        }
        x = g.Op("Flatten", [x], OnnxGraphBuilder.Int("axis", 1)); // (B, C·H·W), channel-major as torch's flatten
        x = g.Op("Relu", [g.Linear(x, "fc")]);
        g.Output(g.Linear(x, "classifier"), "logits", "batch", model.NumLabels);
    }
}
