namespace Distill.Text;

/// <summary>Levenshtein distance (unit-cost substitutions, insertions and deletions) between two sequences, the count WER and CER divide.</summary>
public static class EditDistance
{
    /// <summary>The minimum number of edits turning <paramref name="reference"/> into <paramref name="hypothesis"/> (two-row dynamic programme).</summary>
    public static int Of<T>(IReadOnlyList<T> reference, IReadOnlyList<T> hypothesis) where T : IEquatable<T>
    {
        var previous = new int[hypothesis.Count + 1];
        var current = new int[hypothesis.Count + 1];
        for (int j = 0; j <= hypothesis.Count; j++) previous[j] = j;
        for (int i = 1; i <= reference.Count; i++)
        {
            current[0] = i;
            for (int j = 1; j <= hypothesis.Count; j++)
            {
                int substitute = previous[j - 1] + (reference[i - 1].Equals(hypothesis[j - 1]) ? 0 : 1);
                current[j] = Math.Min(substitute, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[hypothesis.Count];
    }
}
