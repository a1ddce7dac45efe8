using Distill.Models.Hf;
using System.Text.RegularExpressions;
using Distill.Models.Design;
using Distill.Models.Init;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// The <c>wav2vec2</c> family: the head named in <c>architectures</c> (<c>Wav2Vec2ForSequenceClassification</c> by
/// default, or <c>Wav2Vec2ForCTC</c>), HF <c>model_type: wav2vec2</c>. A bare <c>Wav2Vec2Model</c> folder becomes a
/// sequence classifier with a new head. For CTC the head's width is <c>vocab_size</c>: resizing it to a dataset's class
/// count is refused.
/// </summary>
public sealed class Wav2Vec2Family : ModelFamily
{
    public override string Key => "wav2vec2";

    public override string Description => "wav2vec 2.0 speech encoder (HF layout) with a sequence-classification or CTC head";

    public override Type ConfigType => typeof(Wav2Vec2Config);

    public override IReadOnlyList<string> Inputs { get; } = ["input_values", "attention_mask"];

    public override DistillModel Build(IModelConfig config) => Wav2Vec2ForSequenceClassification.Build(As<Wav2Vec2Config>(config));

    /// <summary>Transformer layers <c>wav2vec2.encoder.layers.N</c>; heads in the q/k/v projection rows and the
    /// <c>attention.out_proj</c> columns. No <see cref="ModelFamily.InitRules"/>: recipes cannot derive a wav2vec2
    /// student from its teacher (the design stage initialises its candidates with this layout).</summary>
    public override WeightLayout InitLayout { get; } = new(WeightLayout.EncoderLayers)
    {
        HeadRows = new(@"attention\.(q_proj|k_proj|v_proj)\.(weight|bias)$", RegexOptions.CultureInvariant),
        HeadColumns = new(@"attention\.out_proj\.weight$", RegexOptions.CultureInvariant),
    };

    /// <summary>The design stage's search space (see <see cref="Wav2Vec2Design"/>).</summary>
    public override DesignFamily Design { get; } = new Wav2Vec2Design();

    /// <summary><c>model_type: wav2vec2</c>; the Distill model is the head <c>architectures</c> names.</summary>
    public override HfFamily Hf { get; } = new("wav2vec2", "wav2vec2", "wav2vec2")
    {
        LoadConfig = p => Wav2Vec2Config.FromJsonFile(p) is var c && c.Architecture == Wav2Vec2Config.BaseArchitecture
            ? c with { Architectures = [Wav2Vec2Config.SequenceClassificationArchitecture] }
            : c,
        HeadArchitecture = c => ((Wav2Vec2Config)c).Architecture,
        NumLabels = c => ((Wav2Vec2Config)c).Architecture == Wav2Vec2Config.CtcArchitecture
            ? ((Wav2Vec2Config)c).VocabSize
            : ((Wav2Vec2Config)c).NumLabels,
        WithNumLabels = (c, n) =>
        {
            var w = (Wav2Vec2Config)c;
            if (w.Architecture == Wav2Vec2Config.CtcArchitecture)
                throw new NotSupportedException($"A Wav2Vec2ForCTC head has vocab_size ({w.VocabSize}) outputs, not classes; it cannot be resized to {n} classes. Use a Wav2Vec2ForSequenceClassification folder for classification.");
            return w with { NumLabelsValue = n, Id2Label = w.Id2Label is { } m && m.Count == n ? m : null };
        },
        Architectures =
        [
            HfArchitecture.Base<Wav2Vec2Model, Wav2Vec2ModelOutput>("Wav2Vec2Model", "wav2vec2", "wav2vec2",
                p => new Wav2Vec2Model(Wav2Vec2Config.FromJsonFile(p)), (m, on) => m.OutputAttentions = on),
            HfArchitecture.Head("Wav2Vec2ForCTC", "wav2vec2", "wav2vec2",
                p => new Wav2Vec2ForCTC(Wav2Vec2Config.FromJsonFile(p))),
            HfArchitecture.Head("Wav2Vec2ForSequenceClassification", "wav2vec2", "wav2vec2",
                p => new Wav2Vec2ForSequenceClassification(Wav2Vec2Config.FromJsonFile(p))),
        ],
    };

    /// <summary>The ONNX graph (see <see cref="Wav2Vec2OnnxExport"/>).</summary>
    public override OnnxGraph.IOnnxFamilyExport Onnx { get; } = new Wav2Vec2OnnxExport();
}
