using Distill.Models.Hf;
using Distill.Checkpoints;
using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Hf;

/// <summary>
/// HF folders as recipe models (<c>teacher:/student: pretrained: &lt;hf-folder&gt;</c>): the folder's config.json gives
/// the family and config, its weights load strictly into the family's <see cref="DistillModel"/> through
/// <see cref="StateDictLoader"/> (only HF's own renames: the base prefix, legacy LayerNorm and weight-norm names).
/// <para>Head rules. The model built for a recipe is always the family's task-head class. Its head (keys outside the base
/// prefix) may be left at its fresh initialisation only in two cases, both listed in the <see cref="LoadReport"/> (the
/// run writes them to its log and to summary.json): the folder holds a bare base model (<c>BertModel</c>), or the
/// dataset has another number of classes than the folder's head (<see cref="ConfigForClasses"/>). A folder holding
/// another head class of the same family also drops the folder's head (reported). A part the architecture lists in
/// <see cref="HfArchitecture.NewPartsOnLoad"/> (BERT's pooler) may be absent as a whole: newly initialised, reported
/// (<see cref="LoadReport.NewParts"/>). Anything else that does not fit is a
/// <see cref="StateDictMismatchException"/>.</para>
/// </summary>
public static class HfPretrained
{
    /// <summary>Reads the folder's config.json (family, config record, architecture) and locates its weights.</summary>
    /// <exception cref="HfFolderException">No or invalid config.json, unsupported model_type or architecture, no weights.</exception>
    public static HfPretrainedInfo Inspect(string folder, HfArchitectureRegistry? registry = null)
    {
        registry ??= HfArchitectureRegistry.Default;
        string full = Path.GetFullPath(folder);
        var info = HfFolder.ReadConfig(full);
        if (!registry.TryGetFamilyByModelType(info.ModelType, out var family))
        {
            string known = string.Join(", ", registry.Families.Select(f => f.ModelType));
            throw new HfFolderException($"{info.ConfigPath}: model_type '{info.ModelType}' is not supported as a pretrained model (supported: {(known.Length == 0 ? "none" : known)}).");
        }
        HfArchitecture? architecture = null;
        if (info.Architecture is { } name)
        {
            architecture = registry.Resolve(name, info.ConfigPath);
            if (architecture.ModelType is { } mt && mt != family.ModelType)
                throw new HfFolderException($"{info.ConfigPath}: architecture {name} belongs to model_type '{mt}', but the file says '{info.ModelType}'.");
        }
        IModelConfig config;
        try { config = family.LoadConfig(info.ConfigPath); }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or ArgumentException or IOException)
        {
            throw new HfFolderException(e.Message.Contains(info.ConfigPath, StringComparison.Ordinal) ? e.Message : $"{info.ConfigPath}: {e.Message}");
        }
        var weights = HfFolder.LocateWeights(full);
        return new HfPretrainedInfo(full, family, config, architecture, weights);
    }

    /// <summary>
    /// <paramref name="config"/> with a head of <paramref name="numClasses"/> outputs when it has another width
    /// (<paramref name="note"/> then says so: the head will be new); otherwise <paramref name="config"/> itself.
    /// </summary>
    public static IModelConfig ConfigForClasses(IModelConfig config, HfFamily family, int numClasses, out string? note)
    {
        int have = family.NumLabels(config);
        note = null;
        if (have == numClasses) return config;
        note = $"the folder's head predicts {have} labels but the dataset has {numClasses} classes: a new {numClasses}-way head is initialised";
        return family.WithNumLabels(config, numClasses);
    }

    /// <summary>
    /// Loads the folder's weights into <paramref name="model"/> (a model of the folder's family, built from its config,
    /// possibly with another number of labels). See the class summary for what may be left newly initialised.
    /// </summary>
    public static LoadReport LoadInto(DistillModel model, string folder, HfArchitectureRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        registry ??= HfArchitectureRegistry.Default;
        var info = Inspect(folder, registry);
        var family = info.Family;
        if (model.Family != family.Family)
            throw new HfFolderException($"{info.Folder}: holds a '{family.Family}' model (model_type '{family.ModelType}'), but the model to fill is a '{model.Family}'.");
        string headName = family.HeadArchitecture(model.Config);
        registry.TryGet(headName, out var head);
        bool otherHead = info.Architecture is { IsBase: false } a && a.Name != headName;
        bool labelsDiffer = family.NumLabels(info.Config) != model.NumLabels;
        var options = new LoadOptions
        {
            BasePrefix = family.BasePrefix,
            AllowNewHead = info.Architecture is { IsBase: true } || labelsDiffer || otherHead,
            AllowDroppedHead = otherHead,
            IgnoreMissing = head?.IgnoreOnLoadMissing ?? [],
            IgnoreUnexpected = head?.IgnoreOnLoadUnexpected ?? [],
            NewParts = head?.NewPartsOnLoad ?? [],
            SourceName = info.Weights.Path,
        };
        var (tensors, _) = HfFolder.LoadWeights(info.Folder);
        try
        {
            return StateDictLoader.Load(model, tensors, options);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
