namespace Distill.Models;

/// <summary>Named model families. Unknown keys are an error that lists the valid ones.</summary>
public sealed class ModelRegistry
{
    private readonly Dictionary<string, ModelFamily> _families = new(StringComparer.Ordinal);

    /// <summary>The registry with every family shipped in Distill.</summary>
    public static ModelRegistry Default { get; } = CreateDefault();

    public IReadOnlyCollection<string> Keys => _families.Keys;

    public void Register<TConfig>(string key, Func<TConfig, DistillModel> build, IReadOnlyList<string> inputs, string description)
        where TConfig : class, IModelConfig
    {
        if (_families.ContainsKey(key)) throw new InvalidOperationException($"Model family '{key}' is registered twice.");
        _families[key] = new ModelFamily(key, typeof(TConfig), c => build((TConfig)c), inputs, description);
    }

    public bool TryGet(string key, out ModelFamily family) => _families.TryGetValue(key, out family!);

    public ModelFamily Get(string key) => TryGet(key, out var f)
        ? f
        : throw new KeyNotFoundException($"Unknown model family '{key}'. Valid families: {string.Join(", ", _families.Keys.Order())}.");

    private static ModelRegistry CreateDefault()
    {
        var r = new ModelRegistry();
        Mlp.MlpModel.Register(r);
        Cnn.CnnModel.Register(r);
        Bert.BertForSequenceClassification.Register(r);
        Vit.ViTForImageClassification.Register(r);
        Wav2Vec2.Wav2Vec2ForSequenceClassification.Register(r);
        return r;
    }
}
