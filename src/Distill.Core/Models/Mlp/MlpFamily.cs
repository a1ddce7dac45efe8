using Distill.Models.Pruning;

namespace Distill.Models.Mlp;

/// <summary>The <c>mlp</c> family: a fully connected classifier over flattened images.</summary>
public sealed class MlpFamily : ModelFamily
{
    public override string Key => "mlp";

    public override string Description => "fully connected classifier over flattened images (LeNet-300-100 by default)";

    public override Type ConfigType => typeof(MlpConfig);

    public override IReadOnlyList<string> Inputs { get; } = ["pixel_values"];

    public override DistillModel Build(IModelConfig config) => new MlpModel(As<MlpConfig>(config));

    /// <summary>Hidden neurons of each layer.</summary>
    public override PrunableUnits Units { get; } = new MlpUnits();

    /// <summary>The ONNX graph (see <see cref="MlpOnnxExport"/>).</summary>
    public override OnnxGraph.IOnnxFamilyExport Onnx { get; } = new MlpOnnxExport();
}
