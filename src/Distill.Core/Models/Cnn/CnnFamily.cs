using System.Text.RegularExpressions;
using Distill.Models.Design;
using Distill.Models.Init;
using Distill.Models.Pruning;

namespace Distill.Models.Cnn;

/// <summary>The <c>cnn</c> family: conv3x3-BN-ReLU-maxpool blocks and an MLP head.</summary>
public sealed class CnnFamily : ModelFamily
{
    public override string Key => "cnn";

    public override string Description => "small conv net: conv3x3-BN-ReLU-maxpool blocks and an MLP head";

    public override Type ConfigType => typeof(CnnConfig);

    public override IReadOnlyList<string> Inputs { get; } = ["pixel_values"];

    public override DistillModel Build(IModelConfig config) => new CnnModel(As<CnnConfig>(config));

    /// <summary>The conv blocks <c>blocks.N</c> are the layer list; no attention heads.</summary>
    public override WeightLayout InitLayout { get; } = new(new Regex(@"(^|\.)blocks\.(?<i>[0-9]+)\.", RegexOptions.CultureInvariant));

    /// <summary>The design stage's search space (see <see cref="CnnDesign"/>).</summary>
    public override DesignFamily Design { get; } = new CnnDesign();

    /// <summary>Conv channels of each block and the head's hidden neurons.</summary>
    public override PrunableUnits Units { get; } = new CnnUnits();

    /// <summary>The ONNX graph (see <see cref="CnnOnnxExport"/>).</summary>
    public override OnnxGraph.IOnnxFamilyExport Onnx { get; } = new CnnOnnxExport();
}
