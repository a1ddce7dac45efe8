using Distill.Models.Hf;
using Distill.Checkpoints;
using System.Text.RegularExpressions;
using Distill.Models.Design;
using Distill.Models.Init;
using Distill.Models.Pruning;

namespace Distill.Models.Bert;

/// <summary>The <c>bert</c> family: <c>BertForSequenceClassification</c>, HF <c>model_type: bert</c> (base model
/// <c>BertModel</c>).</summary>
public sealed class BertFamily : ModelFamily
{
    /// <summary>BERT's pooler, in a base model (<c>pooler.</c>) or under a head's <c>bert.</c> prefix.</summary>
    public static NewPartRule Pooler { get; } = new("pooler", @"^(bert\.)?pooler\.dense\.(weight|bias)$",
        "not in the checkpoint (encoder-only exports such as sentence-transformers' leave it out): newly initialised, as transformers' from_pretrained does");

    public override string Key => "bert";

    public override string Description => "BERT encoder with a sequence-classification head (HF BertForSequenceClassification; HF config.json keys)";

    public override Type ConfigType => typeof(BertConfig);

    public override IReadOnlyList<string> Inputs { get; } = ["input_ids", "attention_mask", "token_type_ids"];

    public override DistillModel Build(IModelConfig config) => new BertForSequenceClassification(As<BertConfig>(config));

    /// <summary>Encoder layers <c>bert.encoder.layer.N</c>; heads in the query/key/value rows and the <c>attention.output.dense</c> columns.</summary>
    public override WeightLayout InitLayout { get; } = new(WeightLayout.EncoderLayers)
    {
        HeadRows = new(@"attention\.self\.(query|key|value)\.(weight|bias)$", RegexOptions.CultureInvariant),
        HeadColumns = new(@"attention\.output\.dense\.weight$", RegexOptions.CultureInvariant),
    };

    /// <summary>Fewer layers (every k-th, skip:k, a list) and narrower widths, from a bert teacher.</summary>
    public override StudentInitRules InitRules => _initRules ??= new EncoderInitRules(Key, InitLayout);

    private StudentInitRules? _initRules;

    /// <summary>The design stage's search space (see <see cref="BertDesign"/>).</summary>
    public override DesignFamily Design { get; } = new BertDesign();

    /// <summary>FFN neurons and attention heads (query/key/value in <c>attention.self</c>).</summary>
    public override PrunableUnits Units { get; } = new TransformerEncoderUnits("bert", "attention.self");

    /// <summary><c>model_type: bert</c>; the Distill model is <c>BertForSequenceClassification</c>.</summary>
    public override HfFamily Hf { get; } = new("bert", "bert", "bert")
    {
        LoadConfig = BertConfig.Load,
        HeadArchitecture = _ => "BertForSequenceClassification",
        NumLabels = c => ((BertConfig)c).ResolvedNumLabels,
        WithNumLabels = (c, n) =>
        {
            var b = (BertConfig)c;
            return b with { NumLabels = n, Id2Label = b.Id2Label is { } m && m.Count == n ? m : null };
        },
        Architectures =
        [
            HfArchitecture.Base<BertModel, BertModelOutput>("BertModel", "bert", "bert",
                p => new BertModel(BertConfig.Load(p)), (m, on) => m.OutputAttentions = on) with { NewPartsOnLoad = [Pooler] },
            HfArchitecture.Head("BertForSequenceClassification", "bert", "bert",
                p => new BertForSequenceClassification(BertConfig.Load(p))) with { NewPartsOnLoad = [Pooler] },
        ],
    };

    /// <summary>The ONNX graph (see <see cref="BertOnnxExport"/>).</summary>
    public override OnnxGraph.IOnnxFamilyExport Onnx { get; } = new BertOnnxExport();
}
