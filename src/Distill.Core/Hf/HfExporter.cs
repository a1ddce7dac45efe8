using System.Text.Json;
using Distill.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Hf;

/// <summary>
/// Writes a model as a HuggingFace folder that <c>transformers</c> can load with <c>from_pretrained</c>: config.json,
/// model.safetensors (with <c>__metadata__ {"format": "pt"}</c>, which transformers requires) and the tokenizer or
/// processor files copied alongside. Training-only modules (projectors, hint regressors) are left out through
/// <c>keepKey</c>. The folder is assembled beside the target and renamed into place, so a crash never leaves a
/// half-written model where a loader would find it.
/// </summary>
public static class HfExporter
{
    /// <summary>Exports <paramref name="model"/>'s state dict.</summary>
    /// <param name="model">The model; its <c>state_dict()</c> names must be HF's (Distill models register HF names).</param>
    /// <param name="configJson">The config.json TEXT (a JSON object with <c>model_type</c>), written as given.</param>
    /// <param name="outDir">The folder to create.</param>
    /// <param name="extraFilesToCopy">Tokenizer/processor files (vocab.txt, tokenizer_config.json,
    /// preprocessor_config.json, ...), copied under their own names.</param>
    /// <param name="keepKey">Which state-dict keys to save; null keeps all. Use it to drop projector/hint modules.</param>
    /// <param name="overwrite">Replace an existing non-empty <paramref name="outDir"/>; refused otherwise.</param>
    /// <param name="textFiles">Files written from text (name → content, UTF-8), e.g. a tokenizer made on the fly.</param>
    public static HfExportResult Export(nn.Module model, string configJson, string outDir,
        IEnumerable<string>? extraFilesToCopy = null, Func<string, bool>? keepKey = null, bool overwrite = false,
        IReadOnlyDictionary<string, string>? textFiles = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        string target = Path.GetFullPath(outDir.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        CheckConfig(configJson, target);
        if (File.Exists(target)) throw new HfFolderException($"{target}: export target is a file, not a folder.");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !overwrite)
            throw new HfFolderException($"{target}: export target exists and is not empty; choose a new folder, or pass --overwrite (distill export) to replace it.");

        var extras = CheckExtras(extraFilesToCopy ?? [], target);
        textFiles ??= new Dictionary<string, string>();
        foreach (var n in textFiles.Keys)
            if (n != Path.GetFileName(n) || n is HfFolder.ConfigFileName or HfFolder.SafeTensorsFileName || extras.Any(f => Path.GetFileName(f) == n))
                throw new HfFolderException($"{target}: text file '{n}' must be a plain file name that no other exported file has.");
        var state = model.state_dict();
        var keep = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var dropped = new List<string>();
        foreach (var (k, t) in state)
            if (keepKey is null || keepKey(k)) keep[k] = t; else dropped.Add(k);
        if (keep.Count == 0) throw new HfFolderException($"{target}: keepKey rejected all {state.Count} tensors; nothing to export.");

        string parent = Path.GetDirectoryName(target)!;
        string name = Path.GetFileName(target);
        string tmp = Path.Combine(parent, $".{name}.tmp-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(parent);
            Directory.CreateDirectory(tmp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An output that cannot be written is bad input (exit 2), found before anything is written.
            throw new HfFolderException($"{target}: cannot create the export folder ({e.Message}); choose a writable --out.");
        }
        try
        {
            File.WriteAllText(Path.Combine(tmp, HfFolder.ConfigFileName), configJson.EndsWith('\n') ? configJson : configJson + "\n");
            SafeTensors.Save(Path.Combine(tmp, HfFolder.SafeTensorsFileName), keep, new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var f in extras) File.Copy(f, Path.Combine(tmp, Path.GetFileName(f)));
            foreach (var (n, text) in textFiles) File.WriteAllText(Path.Combine(tmp, n), text, new System.Text.UTF8Encoding(false));
            MoveIntoPlace(tmp, target, parent, name);
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            throw;
        }
        var files = Directory.EnumerateFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        return new HfExportResult(target, keep.Keys.Order(StringComparer.Ordinal).ToList(), dropped.Order(StringComparer.Ordinal).ToList(), files!);
    }

    private static void CheckConfig(string configJson, string target)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(configJson); }
        catch (JsonException e) { throw new HfFolderException($"{target}: the config to export is not valid JSON ({e.Message})."); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new HfFolderException($"{target}: the config to export is not a JSON object.");
            if (!doc.RootElement.TryGetProperty("model_type", out var mt) || mt.ValueKind != JsonValueKind.String)
                throw new HfFolderException($"{target}: the config to export has no string 'model_type'; transformers cannot load it without one.");
        }
    }

    private static List<string> CheckExtras(IEnumerable<string> files, string target)
    {
        var result = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in files)
        {
            string full = Path.GetFullPath(f);
            string n = Path.GetFileName(full);
            if (!File.Exists(full)) throw new HfFolderException($"{target}: file to copy '{full}' not found.");
            if (n is HfFolder.ConfigFileName or HfFolder.SafeTensorsFileName || n == SafeTensors.IndexFileName || n == HfFolder.PyTorchBinFileName)
                throw new HfFolderException($"{target}: '{full}' would replace the exported {n}; config and weights come from the model, copy only tokenizer/processor files.");
            if (!names.Add(n)) throw new HfFolderException($"{target}: two files to copy are both named '{n}'.");
            result.Add(full);
        }
        return result;
    }

    private static void MoveIntoPlace(string tmp, string target, string parent, string name)
    {
        if (!Directory.Exists(target)) { Directory.Move(tmp, target); return; }
        // Existing folder (empty, or overwrite requested): swap it out, move the new one in, then delete the old one.
        string old = Path.Combine(parent, $".{name}.old-{Guid.NewGuid():N}");
        Directory.Move(target, old);
        try { Directory.Move(tmp, target); }
        catch
        {
            Directory.Move(old, target);
            throw;
        }
        Directory.Delete(old, recursive: true);
    }
}
