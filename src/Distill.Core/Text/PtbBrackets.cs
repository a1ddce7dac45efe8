namespace Distill.Text;

/// <summary>The Penn Treebank bracket escapes (<see cref="TextUnescape.Ptb"/>).</summary>
public static class PtbBrackets
{
    private static readonly (string Escape, string Text)[] Escapes =
        [("-lrb-", "("), ("-rrb-", ")"), ("-lsb-", "["), ("-rsb-", "]"), ("-lcb-", "{"), ("-rcb-", "}"),
         ("-LRB-", "("), ("-RRB-", ")"), ("-LSB-", "["), ("-RSB-", "]"), ("-LCB-", "{"), ("-RCB-", "}")];

    /// <summary>The text with every PTB bracket escape replaced by its bracket.</summary>
    public static string Unescape(string text)
    {
        if (!text.Contains('-', StringComparison.Ordinal)) return text;
        foreach (var (escape, replacement) in Escapes) text = text.Replace(escape, replacement, StringComparison.Ordinal);
        return text;
    }

    /// <summary>The clean-up a <see cref="TextUnescape"/> setting names, or null for none.</summary>
    public static Func<string, string>? For(TextUnescape unescape) => unescape switch
    {
        TextUnescape.None => null,
        TextUnescape.Ptb => Unescape,
        _ => throw new ArgumentOutOfRangeException(nameof(unescape), unescape, "unknown text_unescape"),
    };
}
