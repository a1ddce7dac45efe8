using Distill.Models.Hf;
using Distill.Models;

namespace Distill.Hf;

/// <summary>
/// Maps HF architecture names to <see cref="HfArchitecture"/> factories, so a HF folder can be turned into a Distill model
/// by its config.json alone, and HF <c>model_type</c>s to <see cref="HfFamily"/> entries, so recipes can name a folder
/// (<c>pretrained:</c>) and runs can be exported as folders. The entries come from the family descriptors
/// (<see cref="ModelFamily.Hf"/>, see <see cref="From"/>); tests use private instances.
/// </summary>
public sealed class HfArchitectureRegistry
{
    private readonly Dictionary<string, HfArchitecture> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HfFamily> _families = new(StringComparer.Ordinal);

    /// <summary>The process-wide registry: the HF architectures of every family in <see cref="ModelRegistry.Default"/>.</summary>
    public static HfArchitectureRegistry Default { get; } = CreateDefault();

    /// <summary>A registry with the built-in architectures (those of <see cref="ModelRegistry.Default"/>'s families).</summary>
    public static HfArchitectureRegistry CreateDefault() => From(ModelRegistry.Default);

    /// <summary>A registry with the HF architectures and families of every family in <paramref name="models"/> that has an
    /// HF folder format (<see cref="ModelFamily.Hf"/>): adding a family to the model registry adds it here.</summary>
    public static HfArchitectureRegistry From(ModelRegistry models)
    {
        ArgumentNullException.ThrowIfNull(models);
        var registry = new HfArchitectureRegistry();
        foreach (var family in models.Families)
        {
            if (family.Hf is not { } hf) continue;
            if (hf.Family != family.Key)
                throw new InvalidOperationException($"Model family '{family.Key}' declares an HF family keyed '{hf.Family}'; the keys must agree.");
            foreach (var architecture in hf.Architectures) registry.Register(architecture);
            registry.RegisterFamily(hf);
        }
        return registry;
    }

    /// <summary>Registered architecture names, sorted.</summary>
    public IReadOnlyList<string> Names => _entries.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Registered families, by Distill family key.</summary>
    public IReadOnlyList<HfFamily> Families => _families.Values.OrderBy(f => f.Family, StringComparer.Ordinal).ToList();

    /// <summary>Adds an architecture; a name can be registered once.</summary>
    public void Register(HfArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (string.IsNullOrWhiteSpace(architecture.Name)) throw new ArgumentException("An HF architecture needs a name.", nameof(architecture));
        if (!_entries.TryAdd(architecture.Name, architecture))
            throw new ArgumentException($"HF architecture '{architecture.Name}' is already registered.", nameof(architecture));
    }

    /// <summary>Adds a family; a Distill family key and a <c>model_type</c> can each be registered once.</summary>
    public void RegisterFamily(HfFamily family)
    {
        ArgumentNullException.ThrowIfNull(family);
        if (_families.ContainsKey(family.Family) || _families.Values.Any(f => f.ModelType == family.ModelType))
            throw new ArgumentException($"HF family '{family.Family}' (model_type '{family.ModelType}') is already registered.", nameof(family));
        _families[family.Family] = family;
    }

    /// <summary>Looks an architecture up without throwing.</summary>
    public bool TryGet(string name, out HfArchitecture architecture) => _entries.TryGetValue(name, out architecture!);

    /// <summary>The family registered under a Distill family key ("bert"), if any.</summary>
    public bool TryGetFamily(string family, out HfFamily hfFamily) => _families.TryGetValue(family, out hfFamily!);

    /// <summary>The family whose config.json says <c>model_type: <paramref name="modelType"/></c>, if any.</summary>
    public bool TryGetFamilyByModelType(string modelType, out HfFamily hfFamily)
    {
        hfFamily = _families.Values.FirstOrDefault(f => f.ModelType == modelType)!;
        return hfFamily is not null;
    }

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
