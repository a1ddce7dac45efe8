using Distill.Models.Hf;
using Distill.Checkpoints;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Hf;

/// <summary>
/// <c>distill export</c>: writes the final model of one stage of a run (<c>&lt;run&gt;/models/&lt;stage&gt;/</c>) as a
/// HuggingFace folder that <c>transformers</c> loads with <c>from_pretrained</c>: config.json (the family's HF class in
/// <c>architectures</c>, <c>model_type</c>, <c>num_labels</c>, <c>id2label</c>/<c>label2id</c>), model.safetensors
/// (through <see cref="HfExporter"/>), and the tokenizer or processor files of the run's HF folders. Only the tensors of
/// the HF class are written (checked against a copy of it built on CPU), so training-only modules such as
/// projectors or hint regressors can never be in the folder. Only HF families (those in
/// <see cref="HfArchitectureRegistry"/>: bert, vit, and wav2vec2 once registered) can be exported.
/// </summary>
public static class HfRunExport
{
    /// <summary>Tokenizer and processor files HF saves beside a model (copied when present).</summary>
    public static IReadOnlyList<string> TokenizerFiles { get; } =
    [
        "vocab.txt", "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "added_tokens.json", "preprocessor_config.json",
    ];

    /// <summary>Exports stage <paramref name="stage"/> of run <paramref name="runDir"/> to <paramref name="outDir"/>.</summary>
    /// <param name="runDir">A run folder written by <c>distill run</c>.</param>
    /// <param name="stage">A stage name with a final model (<c>models/&lt;stage&gt;/</c>).</param>
    /// <param name="outDir">The HF folder to create (must not exist or be empty unless <paramref name="overwrite"/>).</param>
    /// <param name="filesFrom">Folder to copy tokenizer/processor files from; null = the run's HF folders
    /// (<see cref="HfRunSources"/>: the stage's own pretrained folder, the teacher's, then <c>data.tokenizer</c>).</param>
    /// <param name="overwrite">Replace a non-empty <paramref name="outDir"/>.</param>
    /// <param name="registry">HF registry; <see cref="HfArchitectureRegistry.Default"/> when null.</param>
    /// <exception cref="HfFolderException">No such run or stage, a non-HF family, or an unusable target.</exception>
    /// <param name="labels">The class names the run trained on (summary.json <c>labels</c>), written as
    /// <c>id2label</c>/<c>label2id</c>; null keeps the model config's own names.</param>
    public static HfExportResult Export(string runDir, string stage, string outDir, string? filesFrom = null, bool overwrite = false,
        HfArchitectureRegistry? registry = null, IReadOnlyList<string>? labels = null)
    {
        registry ??= HfArchitectureRegistry.Default;
        string run = Path.GetFullPath(runDir);
        if (!Directory.Exists(run)) throw new HfFolderException($"{run}: run folder not found.");
        string modelDir = Path.Combine(run, "models", stage);
        string located = CheckpointIO.Locate(modelDir) ?? throw new HfFolderException(
            $"{run}: stage '{stage}' has no final model (no {Path.Combine("models", stage, CheckpointIO.StateFile)}); stages with models: {StagesWithModels(run)}.");
        var state = CheckpointIO.ReadState(located);
        if (!registry.TryGetFamily(state.Family, out var family))
            throw new HfFolderException(
                $"{located}: stage '{stage}' holds a '{state.Family}' model; export writes HuggingFace folders and is only for the HF families ({string.Join(", ", registry.Families.Select(f => f.Family))}).");

        var files = TokenizerSources(run, state.Kind, filesFrom);
        using var model = ModelCheckpoint.Load(located, ModelRegistry.Default);
        string configJson = HfConfigJson.Write(model.Config, family, labels);
        var keep = ReferenceKeys(configJson, family, model.Config, registry);
        var missing = keep.Except(model.state_dict().Keys).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            throw new HfFolderException(
                $"{located}: the model lacks {missing.Count} tensors that {family.HeadArchitecture(model.Config)} has ({string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}); it cannot be exported as that class.");
        return HfExporter.Export(model, configJson, outDir, files, k => keep.Contains(k), overwrite);
    }

    /// <summary>The tokenizer/processor files to copy: from <paramref name="filesFrom"/>, else the first of the run's HF
    /// folders (for a student stage: student.pretrained, teacher.pretrained, data.tokenizer; for a teacher stage:
    /// teacher.pretrained, data.tokenizer) that holds any of <see cref="TokenizerFiles"/>.</summary>
    public static IReadOnlyList<string> TokenizerSources(string runDir, string stageKind, string? filesFrom)
    {
        IEnumerable<string?> folders;
        if (filesFrom is not null)
        {
            if (!Directory.Exists(filesFrom)) throw new HfFolderException($"{Path.GetFullPath(filesFrom)}: folder to copy tokenizer/processor files from not found.");
            var found = Files(filesFrom);
            if (found.Count == 0)
                throw new HfFolderException($"{Path.GetFullPath(filesFrom)}: holds none of the tokenizer/processor files ({string.Join(", ", TokenizerFiles)}).");
            return found;
        }
        var sources = HfRunSources.Read(runDir);
        // A run on transcripts wrote its CTC processor (vocab.json, tokenizer_config.json, preprocessor_config.json) here.
        string processor = Path.Combine(runDir, "processor");
        if (sources is null) return Directory.Exists(processor) ? Files(processor) : [];
        folders = stageKind == "train_teacher"
            ? [sources.TeacherPretrained, sources.DataTokenizer]
            : [sources.StudentPretrained, sources.TeacherPretrained, sources.DataTokenizer];
        foreach (var folder in folders.Append(processor))
            if (folder is not null && Directory.Exists(folder) && Files(folder) is { Count: > 0 } found) return found;
        return [];
    }

    private static List<string> Files(string folder) =>
        TokenizerFiles.Select(f => Path.Combine(Path.GetFullPath(folder), f)).Where(File.Exists).ToList();

    /// <summary>The state-dict keys of the HF class, from a copy built on CPU and dropped.</summary>
    private static HashSet<string> ReferenceKeys(string configJson, HfFamily family, IModelConfig config, HfArchitectureRegistry registry)
    {
        string name = family.HeadArchitecture(config);
        var arch = registry.Resolve(name);
        string dir = Path.Combine(Path.GetTempPath(), $"distill-export-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        // Built on CPU, not by switching torch's process-wide default device to meta (which made tensors that other
        // threads created meanwhile meta tensors); the global generator's state is put back so nothing else shifts.
        using var rng = torch.random.get_rng_state();
        try
        {
            string path = Path.Combine(dir, HfFolder.ConfigFileName);
            File.WriteAllText(path, configJson);
            using var reference = arch.Factory(path);
            return reference.state_dict().Keys.ToHashSet(StringComparer.Ordinal);
        }
        finally
        {
            torch.random.set_rng_state(rng);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string StagesWithModels(string run)
    {
        string models = Path.Combine(run, "models");
        if (!Directory.Exists(models)) return "none";
        var names = Directory.GetDirectories(models).Where(d => CheckpointIO.Locate(d) is not null)
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }
}
