using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// Supervised training on transcripts (teacher training and the baseline of CTC data): the CTC loss the model computes
/// from the batch's −100-padded labels (<see cref="Models.Wav2Vec2.Wav2Vec2ForCTC"/>: blank = pad_token_id, the
/// config's <c>ctc_loss_reduction</c> and <c>ctc_zero_infinity</c>).
/// </summary>
public sealed class CtcObjective : IObjective
{
    public TorchSharp.torch.nn.Module? Trainable => null;

    public LossBreakdown Compute(DistillModel student, Batch batch)
    {
        batch.RequireLabels();
        var output = student.call(batch);
        var ctc = output.Loss ?? throw new InvalidOperationException(
            $"The data holds transcripts (CTC labels) but the {student.Family} model computed no CTC loss; use a CTC head (architectures: [Wav2Vec2ForCTC]).");
        return new LossBreakdown(ctc, [("ctc", ctc)]);
    }

    /// <summary>The supervised objective for <paramref name="data"/>: CTC for transcript data, cross-entropy for class labels.</summary>
    public static IObjective For(Data.IDataset data) => data.Vocabulary is null ? new CrossEntropyObjective() : new CtcObjective();
}
