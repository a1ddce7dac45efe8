namespace Distill.Hf;

/// <summary>
/// Maps HF architecture names to <see cref="HfArchitecture"/> factories, so a HF folder can be turned into a Distill model
/// by its config.json alone. Model families register their architectures in <see cref="CreateDefault"/>; tests use
/// private instances.
/// </summary>
public sealed class HfArchitectureRegistry
{
    private readonly Dictionary<string, HfArchitecture> _entries = new(StringComparer.Ordinal);

    /// <summary>The process-wide registry with every built-in architecture.</summary>
    public static HfArchitectureRegistry Default { get; } = CreateDefault();

    /// <summary>A registry with the built-in architectures (model families add one line each here).</summary>
    public static HfArchitectureRegistry CreateDefault()
    {
        var registry = new HfArchitectureRegistry();
        return registry;
    }

    /// <summary>Registered architecture names, sorted.</summary>
    public IReadOnlyList<string> Names => _entries.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Adds an architecture; a name can be registered once.</summary>
    public void Register(HfArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (string.IsNullOrWhiteSpace(architecture.Name)) throw new ArgumentException("An HF architecture needs a name.", nameof(architecture));
        if (!_entries.TryAdd(architecture.Name, architecture))
            throw new ArgumentException($"HF architecture '{architecture.Name}' is already registered.", nameof(architecture));
    }

    /// <summary>Looks an architecture up without throwing.</summary>
    public bool TryGet(string name, out HfArchitecture architecture) => _entries.TryGetValue(name, out architecture!);

    /// <summary>The architecture registered as <paramref name="name"/>; unknown names throw listing the supported ones.</summary>
    /// <param name="name">HF class name, e.g. <c>BertForSequenceClassification</c>.</param>
    /// <param name="source">The config.json it came from, for the message.</param>
    public HfArchitecture Resolve(string name, string? source = null)
    {
        if (_entries.TryGetValue(name, out var a)) return a;
        string supported = _entries.Count == 0 ? "none registered" : string.Join(", ", Names);
        throw new HfFolderException($"{source ?? "config"}: architecture '{name}' is not supported (supported: {supported}).");
    }
}
