using Distill.Text;

namespace Distill.Training;

/// <summary>
/// Corpus-level error rates of transcriptions, accumulated clip by clip:
/// <code>
/// WER = Σ word edits / Σ reference words        (edit distance over whitespace-separated words)
/// CER = Σ character edits / Σ reference chars   (edit distance over characters, spaces included)
/// exact_match = clips whose hypothesis equals the reference / clips
/// </code>
/// (jiwer's and HF evaluate's corpus definition: totals, not a mean of per-clip rates). Both texts are compared after
/// <see cref="CtcVocabulary.Normalize"/>. Lower WER and CER are better; an empty reference contributes its hypothesis'
/// insertions to the edits and nothing to the length.
/// </summary>
public sealed class TranscriptionMetrics
{
    public long Clips { get; private set; }
    public long WordEdits { get; private set; }
    public long ReferenceWords { get; private set; }
    public long CharEdits { get; private set; }
    public long ReferenceChars { get; private set; }
    public long ExactMatches { get; private set; }

    public void Add(string reference, string hypothesis)
    {
        string r = CtcVocabulary.Normalize(reference), h = CtcVocabulary.Normalize(hypothesis);
        var rWords = Words(r);
        WordEdits += EditDistance.Of(rWords, Words(h));
        ReferenceWords += rWords.Length;
        CharEdits += EditDistance.Of(r.ToCharArray(), h.ToCharArray());
        ReferenceChars += r.Length;
        if (string.Equals(r, h, StringComparison.Ordinal)) ExactMatches++;
        Clips++;
    }

    private static string[] Words(string s) => s.Length == 0 ? [] : s.Split(' ');

    /// <summary>Word error rate; NaN before any reference word.</summary>
    public double Wer => ReferenceWords == 0 ? double.NaN : (double)WordEdits / ReferenceWords;

    /// <summary>Character error rate; NaN before any reference character.</summary>
    public double Cer => ReferenceChars == 0 ? double.NaN : (double)CharEdits / ReferenceChars;

    public double ExactMatch => Clips == 0 ? double.NaN : (double)ExactMatches / Clips;
}
