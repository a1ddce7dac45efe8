using System.Text.Json;
using Distill.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Hf;

/// <summary>
/// Reads a HuggingFace model folder (as written by <c>save_pretrained</c>): config.json for <c>model_type</c> and
/// <c>architectures</c>, and the weights in HF's order of preference: <c>model.safetensors</c>, the sharded
/// <c>model.safetensors.index.json</c>, then <c>pytorch_model.bin</c> (read without executing its pickle).
/// </summary>
public static class HfFolder
{
    /// <summary>The config file name.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>Single-file safetensors weights.</summary>
    public const string SafeTensorsFileName = "model.safetensors";

    /// <summary>Legacy torch.save weights.</summary>
    public const string PyTorchBinFileName = "pytorch_model.bin";

    /// <summary>Reads <c>config.json</c> of <paramref name="folder"/>: <c>model_type</c> (required) and <c>architectures</c>.</summary>
    public static HfConfigInfo ReadConfig(string folder)
    {
        if (!Directory.Exists(folder)) throw new HfFolderException($"{folder}: HF model folder not found.");
        string path = Path.GetFullPath(Path.Combine(folder, ConfigFileName));
        if (!File.Exists(path)) throw new HfFolderException($"{folder}: no {ConfigFileName}; a HF model folder needs one (save_pretrained writes it).");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new HfFolderException($"{path}: not valid JSON ({e.Message})."); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new HfFolderException($"{path}: the top level is not a JSON object.");
            if (!root.TryGetProperty("model_type", out var mt) || mt.ValueKind != JsonValueKind.String || mt.GetString() is not { Length: > 0 } modelType)
                throw new HfFolderException($"{path}: no string 'model_type' (e.g. \"bert\"); HF needs it to pick the model family.");
            var archs = new List<string>();
            if (root.TryGetProperty("architectures", out var ar) && ar.ValueKind != JsonValueKind.Null)
            {
                if (ar.ValueKind != JsonValueKind.Array) throw new HfFolderException($"{path}: 'architectures' is not a list of class names.");
                foreach (var a in ar.EnumerateArray())
                    archs.Add(a.ValueKind == JsonValueKind.String ? a.GetString()! : throw new HfFolderException($"{path}: 'architectures' holds a non-string entry."));
            }
            return new HfConfigInfo(path, modelType, archs);
        }
    }

    /// <summary>Finds the weights: model.safetensors, else model.safetensors.index.json, else pytorch_model.bin.</summary>
    public static HfWeights LocateWeights(string folder)
    {
        if (!Directory.Exists(folder)) throw new HfFolderException($"{folder}: HF model folder not found.");
        string st = Path.Combine(folder, SafeTensorsFileName);
        if (File.Exists(st)) return new HfWeights(HfWeightsFormat.SafeTensors, Path.GetFullPath(st));
        string index = Path.Combine(folder, SafeTensors.IndexFileName);
        if (File.Exists(index)) return new HfWeights(HfWeightsFormat.ShardedSafeTensors, Path.GetFullPath(index));
        string bin = Path.Combine(folder, PyTorchBinFileName);
        if (File.Exists(bin)) return new HfWeights(HfWeightsFormat.PyTorchBin, Path.GetFullPath(bin));

        string looked = $"looked for {SafeTensorsFileName}, {SafeTensors.IndexFileName}, {PyTorchBinFileName}";
        var unsupported = new[] { "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack", "model.ckpt.index" }
            .Where(f => File.Exists(Path.Combine(folder, f))).ToList();
        string extra = unsupported.Count > 0
            ? $"; found {string.Join(", ", unsupported)}, which is not supported: convert it to safetensors (e.g. save_pretrained(..., safe_serialization=True))"
            : "";
        throw new HfFolderException($"{folder}: no model weights ({looked}){extra}.");
    }

    /// <summary>
    /// Checks the folder's weights without reading tensor data: the safetensors header of the file, or of every shard
    /// the index names, against the file's size (dtypes, shapes, offsets in bounds, no overlaps); a pytorch_model.bin
    /// through the restricted unpickler (<see cref="PyTorchPickle.Verify"/>). Throws what loading would throw.
    /// </summary>
    public static HfWeights VerifyWeights(string folder)
    {
        var w = LocateWeights(folder);
        switch (w.Format)
        {
            case HfWeightsFormat.SafeTensors:
                SafeTensors.ReadHeader(w.Path);
                break;
            case HfWeightsFormat.ShardedSafeTensors:
                string dir = Path.GetDirectoryName(w.Path)!;
                foreach (var shard in SafeTensors.ReadIndex(w.Path, dir).Keys) SafeTensors.ReadHeader(Path.Combine(dir, shard));
                break;
            default:
                PyTorchPickle.Verify(w.Path);
                break;
        }
        return w;
    }

    /// <summary>Loads every tensor of the folder's weights (CPU).</summary>
    public static (Dictionary<string, Tensor> Tensors, HfWeights Weights) LoadWeights(string folder)
    {
        var w = LocateWeights(folder);
        var tensors = w.Format switch
        {
            HfWeightsFormat.SafeTensors => SafeTensors.Load(w.Path),
            HfWeightsFormat.ShardedSafeTensors => SafeTensors.LoadSharded(Path.GetDirectoryName(w.Path)!, Path.GetFileName(w.Path)),
            _ => PyTorchPickle.Load(w.Path),
        };
        return (tensors, w);
    }

    /// <summary>
    /// Builds the model of the folder's architecture (<c>architectures[0]</c>, or <paramref name="architecture"/> when
    /// given, e.g. to load a <c>BertModel</c> checkpoint into <c>BertForSequenceClassification</c>) with the registry's
    /// factory, then loads the weights strictly through <see cref="StateDictLoader"/>. The architecture's base prefix and
    /// ignore lists are added to <paramref name="options"/> unless it sets its own prefix.
    /// </summary>
    public static HfLoadedModel LoadModel(string folder, HfArchitectureRegistry registry, LoadOptions? options = null, string? architecture = null)
    {
        var config = ReadConfig(folder);
        string name = architecture ?? config.Architecture
            ?? throw new HfFolderException($"{config.ConfigPath}: 'architectures' is empty, so the model class is unknown; pass the architecture name explicitly (supported: {string.Join(", ", registry.Names)}).");
        var arch = registry.Resolve(name, config.ConfigPath);
        if (arch.ModelType != null && arch.ModelType != config.ModelType)
            throw new HfFolderException($"{config.ConfigPath}: model_type '{config.ModelType}' does not match architecture {arch.Name}, which expects '{arch.ModelType}'.");
        var weights = LocateWeights(folder);
        var opts = (options ?? LoadOptions.Default) with { SourceName = options?.SourceName ?? weights.Path };
        opts = opts with
        {
            BasePrefix = opts.BasePrefix ?? arch.BasePrefix,
            IgnoreMissing = [.. opts.IgnoreMissing, .. arch.IgnoreOnLoadMissing],
            IgnoreUnexpected = [.. opts.IgnoreUnexpected, .. arch.IgnoreOnLoadUnexpected],
        };

        var model = arch.Factory(config.ConfigPath);
        try
        {
            var (tensors, _) = LoadWeights(folder);
            try
            {
                var report = StateDictLoader.Load(model, tensors, opts);
                return new HfLoadedModel(model, arch, config, weights, report);
            }
            finally
            {
                foreach (var t in tensors.Values) t.Dispose();
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
