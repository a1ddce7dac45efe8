namespace Distill.Recipes;

/// <summary>Edit distances for "did you mean" hints in recipe errors.</summary>
internal static class TextDistance
{
    /// <summary>Levenshtein distance (insertions, deletions, substitutions each cost 1).</summary>
    public static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    /// <summary>The candidate closest to <paramref name="input"/> when it is close enough to be a likely typo, else null.</summary>
    public static string? Closest(string input, IEnumerable<string> candidates)
    {
        int limit = input.Length <= 3 ? 1 : input.Length <= 6 ? 2 : 3;
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Levenshtein(input.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance) { best = c; bestDistance = d; }
        }
        return bestDistance <= limit ? best : null;
    }

    /// <summary><c> (did you mean 'x'?)</c> for a close candidate, else the empty string.</summary>
    public static string DidYouMean(string input, IEnumerable<string> candidates) =>
        Closest(input, candidates) is { } c ? $" (did you mean '{c}'?)" : "";

    /// <summary>The <paramref name="count"/> candidates nearest to <paramref name="input"/>, nearest first.</summary>
    public static IReadOnlyList<string> Nearest(string input, IEnumerable<string> candidates, int count) =>
        candidates.Select(c => (c, d: Levenshtein(input, c))).OrderBy(t => t.d).ThenBy(t => t.c, StringComparer.Ordinal)
            .Take(count).Select(t => t.c).ToList();
}
