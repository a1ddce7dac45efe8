using System.Text.RegularExpressions;

namespace Distill.Compression.Pruning;

/// <summary>
/// A module-path pattern such as <c>bert.encoder.layer.*.attention.*</c> or <c>layers.?</c>: <c>*</c> matches any run
/// of characters (dots included, so <c>*</c> alone matches every module), <c>?</c> exactly one character, everything
/// else itself. The whole path must match (patterns are anchored). Paths are <c>named_modules()</c> names, which are
/// HuggingFace's (<c>encoder.layer.0.attention.self.query</c>).
/// </summary>
public sealed class ModuleGlob
{
    private readonly Regex _regex;

    public ModuleGlob(string pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern)) throw new ArgumentException("A module-path pattern must not be empty.", nameof(pattern));
        Pattern = pattern;
        var body = string.Concat(pattern.Select(c => c switch
        {
            '*' => ".*",
            '?' => ".",
            _ => Regex.Escape(c.ToString()),
        }));
        _regex = new Regex($"^{body}$", RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    public string Pattern { get; }

    public bool IsMatch(string modulePath) => _regex.IsMatch(modulePath);

    /// <summary>True when any of <paramref name="patterns"/> matches <paramref name="modulePath"/>.</summary>
    public static bool AnyMatch(IEnumerable<ModuleGlob> patterns, string modulePath) => patterns.Any(p => p.IsMatch(modulePath));

    public override string ToString() => Pattern;
}
