using Distill.Models.Hf;
using System.Text.RegularExpressions;
using Distill.Models.Design;
using Distill.Models.Init;
using Distill.Models.Pruning;

namespace Distill.Models.Vit;

/// <summary>The <c>vit</c> family: <c>ViTForImageClassification</c>, HF <c>model_type: vit</c> (base model <c>ViTModel</c>).</summary>
public sealed class ViTFamily : ModelFamily
{
    public override string Key => "vit";

    public override string Description => "Vision Transformer image classifier (HF ViTForImageClassification; also the compact ViT for MNIST/CIFAR)";

    public override Type ConfigType => typeof(ViTConfig);

    public override IReadOnlyList<string> Inputs { get; } = ["pixel_values"];

    public override DistillModel Build(IModelConfig config) => new ViTForImageClassification(As<ViTConfig>(config));

    /// <summary>Encoder layers <c>vit.encoder.layer.N</c>; heads in the query/key/value rows and the <c>attention.output.dense</c> columns.</summary>
    public override WeightLayout InitLayout { get; } = new(WeightLayout.EncoderLayers)
    {
        HeadRows = new(@"attention\.attention\.(query|key|value)\.(weight|bias)$", RegexOptions.CultureInvariant),
        HeadColumns = new(@"attention\.output\.dense\.weight$", RegexOptions.CultureInvariant),
    };

    /// <summary>Fewer layers (every k-th, skip:k, a list) and narrower widths, from a vit teacher.</summary>
    public override StudentInitRules InitRules => _initRules ??= new EncoderInitRules(Key, InitLayout);

    private StudentInitRules? _initRules;

    /// <summary>The design stage's search space (see <see cref="VitDesign"/>).</summary>
    public override DesignFamily Design { get; } = new VitDesign();

    /// <summary>FFN neurons and attention heads (query/key/value in <c>attention.attention</c>).</summary>
    public override PrunableUnits Units { get; } = new TransformerEncoderUnits("vit", "attention.attention");

    /// <summary><c>model_type: vit</c>; the Distill model is <c>ViTForImageClassification</c>.</summary>
    public override HfFamily Hf { get; } = new("vit", "vit", "vit")
    {
        LoadConfig = ViTConfig.Load,
        HeadArchitecture = _ => "ViTForImageClassification",
        NumLabels = c => ((ViTConfig)c).NumLabels,
        WithNumLabels = (c, n) =>
        {
            var v = (ViTConfig)c;
            bool keep = v.Id2Label is { } m && m.Count == n;
            return v with { NumLabels = n, Id2Label = keep ? v.Id2Label : null, Label2Id = keep ? v.Label2Id : null };
        },
        Architectures =
        [
            HfArchitecture.Base<ViTModel, ViTModelOutput>("ViTModel", "vit", "vit",
                p => new ViTModel(ViTConfig.Load(p)), (m, on) => m.OutputAttentions = on),
            // HF's ViTForImageClassification has no pooler: a ViTModel checkpoint's pooler.* is unused (HF warns; reported here).
            HfArchitecture.Head("ViTForImageClassification", "vit", "vit",
                p => new ViTForImageClassification(ViTConfig.Load(p))) with { IgnoreOnLoadUnexpected = [@"^(vit\.)?pooler\."] },
        ],
    };

    /// <summary>The ONNX graph (see <see cref="VitOnnxExport"/>).</summary>
    public override OnnxGraph.IOnnxFamilyExport Onnx { get; } = new VitOnnxExport();
}
