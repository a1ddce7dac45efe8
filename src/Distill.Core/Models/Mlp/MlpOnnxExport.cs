using Distill.Models.OnnxGraph;
using Onnx;

namespace Distill.Models.Mlp;

/// <summary>MLP: Flatten(pixel_values) → (Linear → ReLU) per hidden layer → classifier. Input of any rank (B, …).</summary>
public sealed class MlpOnnxExport : IOnnxFamilyExport
{
    public string Family => "mlp";

    public void Build(DistillModel model, OnnxGraphBuilder g, OnnxExportOptions options)
    {
        var config = (MlpConfig)model.Config;
        // Images (B, C, H, W) or flat rows (B, input_size): the model flattens either, so the rank stays open.
        string x = g.Op("Flatten", [g.Input("pixel_values", TensorProto.Types.DataType.Float, null)], OnnxGraphBuilder.Int("axis", 1)); // (B, input_size)
        for (int i = 0; i < config.HiddenSizes.Count; i++) x = g.Op("Relu", [g.Linear(x, $"layers.{i}")]);
        g.Output(g.Linear(x, "classifier"), "logits", "batch", model.NumLabels);
    }
}
