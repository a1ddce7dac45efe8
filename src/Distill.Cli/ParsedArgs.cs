namespace Distill.Cli;

/// <summary>
/// A minimal, strict argument parser: positionals, <c>--flag</c>s, <c>--option value</c> (or <c>--option=value</c>),
/// and repeatable options. Anything the command did not declare is a <see cref="UsageException"/>.
/// </summary>
public sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    public static ParsedArgs Parse(IReadOnlyList<string> args, IReadOnlySet<string> valueOptions, IReadOnlySet<string> flags)
    {
        var parsed = new ParsedArgs();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a == "--")
            {
                parsed.Positionals.Add(a);
                continue;
            }
            string name = a, value = "";
            bool inline = false;
            int eq = a.IndexOf('=');
            if (eq > 0)
            {
                name = a[..eq];
                value = a[(eq + 1)..];
                inline = true;
            }
            if (flags.Contains(name))
            {
                if (inline) throw new UsageException($"{name} takes no value.");
                parsed._flags.Add(name);
            }
            else if (valueOptions.Contains(name))
            {
                if (!inline)
                {
                    if (i + 1 >= args.Count) throw new UsageException($"{name} needs a value.");
                    value = args[++i];
                }
                if (!parsed._options.TryGetValue(name, out var list)) parsed._options[name] = list = [];
                list.Add(value);
            }
            else
            {
                var known = valueOptions.Concat(flags).Order().ToList();
                throw new UsageException($"Unknown option '{name}'. Options of this command: {string.Join(", ", known)}.");
            }
        }
        return parsed;
    }

    public bool Flag(string name) => _flags.Contains(name);

    public IReadOnlyList<string> All(string name) => _options.TryGetValue(name, out var l) ? l : [];

    public string? Single(string name)
    {
        var all = All(name);
        return all.Count switch
        {
            0 => null,
            1 => all[0],
            _ => throw new UsageException($"{name} was given {all.Count} times; give it once."),
        };
    }
}
