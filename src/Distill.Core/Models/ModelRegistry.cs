namespace Distill.Models;

/// <summary>Named model families (<see cref="ModelFamily"/> descriptors). Unknown keys are an error that lists the valid ones.</summary>
public sealed class ModelRegistry
{
    private readonly Dictionary<string, ModelFamily> _families = new(StringComparer.Ordinal);

    /// <summary>The registry with every family shipped in Distill.</summary>
    public static ModelRegistry Default { get; } = CreateDefault();

    public IReadOnlyCollection<string> Keys => _families.Keys;

    /// <summary>The registered descriptors, by key.</summary>
    public IReadOnlyList<ModelFamily> Families => _families.Values.OrderBy(f => f.Key, StringComparer.Ordinal).ToList();

    /// <summary>Adds a family; a key can be registered once.</summary>
    public void Register(ModelFamily family)
    {
        ArgumentNullException.ThrowIfNull(family);
        if (_families.ContainsKey(family.Key)) throw new InvalidOperationException($"Model family '{family.Key}' is registered twice.");
        _families[family.Key] = family;
    }

    public bool TryGet(string key, out ModelFamily family) => _families.TryGetValue(key, out family!);

    public ModelFamily Get(string key) => TryGet(key, out var f)
        ? f
        : throw new KeyNotFoundException($"Unknown model family '{key}'. Valid families: {string.Join(", ", _families.Keys.Order())}.");

    /// <summary>The shipped families: one line each.</summary>
    public static ModelRegistry CreateDefault()
    {
        var r = new ModelRegistry();
        r.Register(new Mlp.MlpFamily());
        r.Register(new Cnn.CnnFamily());
        r.Register(new Bert.BertFamily());
        r.Register(new Vit.ViTFamily());
        r.Register(new Wav2Vec2.Wav2Vec2Family());
        return r;
    }
}
