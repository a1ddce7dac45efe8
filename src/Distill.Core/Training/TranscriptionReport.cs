using System.Text.Json.Nodes;

namespace Distill.Training;

/// <summary>
/// What <c>distill eval</c> reports for one split of transcript data: WER, CER, exact-match rate and the CTC loss per
/// clip exactly as the run's evaluation computes them (<see cref="Evaluator.Transcribe"/>), the edit and length totals
/// they divide, and the clips transcribed wrongly (reference and greedy hypothesis, the first <see cref="MaxErrorsListed"/>).
/// </summary>
public sealed record TranscriptionReport(string Split, TranscriptionMetrics Metrics, double Loss, IReadOnlyList<(string Reference, string Hypothesis)> Clips)
{
    public const int MaxErrorsListed = 50;

    /// <summary>The clips whose hypothesis differs from the reference, in split order.</summary>
    public IEnumerable<(int Index, string Reference, string Hypothesis)> Errors =>
        Clips.Select((c, i) => (i, c.Reference, c.Hypothesis)).Where(c => !string.Equals(c.Reference, c.Hypothesis, StringComparison.Ordinal));

    /// <summary>The report as JSON: <c>wer</c>, <c>cer</c>, <c>exact_match</c>, <c>loss</c>, <c>examples</c>, the totals, and <c>errors</c> (<c>[{index, reference, hypothesis}]</c>).</summary>
    public JsonObject ToJson()
    {
        static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
        var errors = new JsonArray();
        foreach (var (index, reference, hypothesis) in Errors.Take(MaxErrorsListed))
            errors.Add(new JsonObject { ["index"] = index, ["reference"] = reference, ["hypothesis"] = hypothesis });
        return new JsonObject
        {
            ["split"] = Split,
            ["wer"] = Num(Metrics.Wer),
            ["cer"] = Num(Metrics.Cer),
            ["exact_match"] = Num(Metrics.ExactMatch),
            ["loss"] = Num(Loss),
            ["examples"] = Metrics.Clips,
            ["word_edits"] = Metrics.WordEdits,
            ["reference_words"] = Metrics.ReferenceWords,
            ["char_edits"] = Metrics.CharEdits,
            ["reference_chars"] = Metrics.ReferenceChars,
            ["errors"] = errors,
        };
    }
}
