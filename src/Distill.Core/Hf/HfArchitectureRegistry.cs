using Distill.Checkpoints;
using Distill.Models.Bert;
using Distill.Models.Vit;
using Distill.Models.Wav2Vec2;

namespace Distill.Hf;

/// <summary>
/// Maps HF architecture names to <see cref="HfArchitecture"/> factories, so a HF folder can be turned into a Distill model
/// by its config.json alone, and HF <c>model_type</c>s to <see cref="HfFamily"/> entries, so recipes can name a folder
/// (<c>pretrained:</c>) and runs can be exported as folders. Model families register their architectures in
/// <see cref="CreateDefault"/> (one line per HF class, plus one for the family); tests use private instances.
/// </summary>
public sealed class HfArchitectureRegistry
{
    private readonly Dictionary<string, HfArchitecture> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HfFamily> _families = new(StringComparer.Ordinal);

    /// <summary>BERT's pooler, in a base model (<c>pooler.</c>) or under a head's <c>bert.</c> prefix. Declared before
    /// <see cref="Default"/>: static initialisers run in order.</summary>
    public static NewPartRule BertPooler { get; } = new("pooler", @"^(bert\.)?pooler\.dense\.(weight|bias)$",
        "not in the checkpoint (encoder-only exports such as sentence-transformers' leave it out): newly initialised, as transformers' from_pretrained does");

    /// <summary>The process-wide registry with every built-in architecture.</summary>
    public static HfArchitectureRegistry Default { get; } = CreateDefault();

    /// <summary>A registry with the built-in architectures (model families add one line each here).</summary>
    public static HfArchitectureRegistry CreateDefault()
    {
        var registry = new HfArchitectureRegistry();
        registry.Register(HfArchitecture.Base<BertModel, BertModelOutput>("BertModel", "bert", "bert",
            p => new BertModel(BertConfig.Load(p)), (m, on) => m.OutputAttentions = on) with { NewPartsOnLoad = [BertPooler] });
        registry.Register(HfArchitecture.Head("BertForSequenceClassification", "bert", "bert",
            p => new BertForSequenceClassification(BertConfig.Load(p))) with { NewPartsOnLoad = [BertPooler] });
        registry.RegisterFamily(HfFamilies.Bert);

        registry.Register(HfArchitecture.Base<ViTModel, ViTModelOutput>("ViTModel", "vit", "vit",
            p => new ViTModel(ViTConfig.Load(p)), (m, on) => m.OutputAttentions = on));
        // HF's ViTForImageClassification has no pooler: a ViTModel checkpoint's pooler.* is unused (HF warns; reported here).
        registry.Register(HfArchitecture.Head("ViTForImageClassification", "vit", "vit",
            p => new ViTForImageClassification(ViTConfig.Load(p))) with { IgnoreOnLoadUnexpected = [@"^(vit\.)?pooler\."] });
        registry.RegisterFamily(HfFamilies.ViT);

        registry.Register(HfArchitecture.Base<Wav2Vec2Model, Wav2Vec2ModelOutput>("Wav2Vec2Model", "wav2vec2", "wav2vec2",
            p => new Wav2Vec2Model(Wav2Vec2Config.FromJsonFile(p)), (m, on) => m.OutputAttentions = on));
        registry.Register(HfArchitecture.Head("Wav2Vec2ForCTC", "wav2vec2", "wav2vec2",
            p => new Wav2Vec2ForCTC(Wav2Vec2Config.FromJsonFile(p))));
        registry.Register(HfArchitecture.Head("Wav2Vec2ForSequenceClassification", "wav2vec2", "wav2vec2",
            p => new Wav2Vec2ForSequenceClassification(Wav2Vec2Config.FromJsonFile(p))));
        registry.RegisterFamily(HfFamilies.Wav2Vec2);
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
