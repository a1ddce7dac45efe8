using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Checkpoints;

/// <summary>
/// Distill checkpoint folders: <c>state.json</c>, <c>model.safetensors</c> (the model's full state dict, HF-compatible
/// names), and for resumable ones <c>projectors.safetensors</c>, <c>optimizer.bin</c> and <c>rng.safetensors</c>.
/// A folder is written beside its destination and renamed into place, so a reader never sees half a checkpoint:
/// the previous checkpoint stays valid until the new one is complete. Each folder carries the SHA-256 of its files
/// (<see cref="CheckpointChecksums"/>), verified whenever it is loaded. Only files and state dicts here: rebuilding a model
/// from its folder is <c>Models.ModelCheckpoint</c>; writing a model or a resumable training session is <c>Training.TrainingCheckpoints</c>.
/// </summary>
public static class CheckpointIO
{
    public const string StateFile = "state.json";
    public const string ModelFile = "model.safetensors";
    public const string ProjectorsFile = "projectors.safetensors";
    public const string OptimizerFile = "optimizer.bin";
    public const string RngFile = "rng.safetensors";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static CheckpointState ReadState(string dir)
    {
        string path = Path.Combine(dir, StateFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{dir} is not a Distill checkpoint: it has no {StateFile}.", path);
        CheckpointState? state;
        try { state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(path)); }
        catch (JsonException e)
        {
            throw new InvalidInputException(path,
                $"{path}: not a valid checkpoint state ({e.Message}); the checkpoint is damaged (written by hand, or cut short by a full disk).", e);
        }
        if (state is null) throw new InvalidInputException(path, $"{path}: the checkpoint state is empty (null); the checkpoint is damaged.");
        if (state.Format != CheckpointState.CurrentFormat)
            throw new InvalidInputException(path, $"{path}: format '{state.Format}' is not '{CheckpointState.CurrentFormat}'; it was not written by this version of Distill.");
        return state;
    }

    /// <summary>
    /// Checks a checkpoint folder without loading it: every file against <c>checksums.json</c> (when the folder has
    /// one; older checkpoints do not), its state, and the safetensors headers of its tensor files against their
    /// sizes. Returns the state; a damaged folder is an <see cref="InvalidInputException"/> naming the file.
    /// </summary>
    public static CheckpointState Verify(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Checkpoint folder {dir} does not exist.");
        CheckpointChecksums.Verify(dir);
        var state = ReadState(dir);
        foreach (var file in new[] { ModelFile, ProjectorsFile, RngFile })
        {
            string path = Path.Combine(dir, file);
            if (File.Exists(path)) SafeTensors.ReadHeader(path);
            else if (file == ModelFile || (file == RngFile && state.Resumable))
                throw new InvalidInputException(path, $"{path} is missing; the checkpoint {dir} is incomplete.");
        }
        return state;
    }

    /// <summary>Loads <c>model.safetensors</c> into <paramref name="model"/> after <see cref="Verify"/>; every key must match, in name and shape.</summary>
    public static void LoadWeights(string dir, nn.Module model)
    {
        Verify(dir);
        LoadStrict(Path.Combine(dir, ModelFile), model);
    }

    /// <summary>Writes <c>model.safetensors</c> (the module's full state dict) and <c>state.json</c> into a folder being filled by <see cref="Prepare"/>.</summary>
    public static void WriteModel(string dir, nn.Module model, CheckpointState state)
    {
        SafeTensors.Save(Path.Combine(dir, ModelFile), model.state_dict());
        File.WriteAllText(Path.Combine(dir, StateFile), JsonSerializer.Serialize(state, Json));
    }

    /// <summary>Loads a safetensors file into <paramref name="module"/>; every key must match, in name and shape.</summary>
    public static void LoadStrict(string path, nn.Module module)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint file {path} is missing.", path);
        var tensors = SafeTensors.Load(path);
        var expected = module.state_dict();
        var missing = expected.Keys.Except(tensors.Keys).ToList();
        var unexpected = tensors.Keys.Except(expected.Keys).ToList();
        var badShape = expected.Keys.Intersect(tensors.Keys)
            .Where(k => !expected[k].shape.SequenceEqual(tensors[k].shape))
            .Select(k => $"{k}: model [{string.Join(", ", expected[k].shape)}], file [{string.Join(", ", tensors[k].shape)}]").ToList();
        if (missing.Count + unexpected.Count + badShape.Count > 0)
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw new InvalidInputException(path,
                $"{path} does not match the model: " +
                (missing.Count > 0 ? $"missing keys [{string.Join(", ", missing)}]; " : "") +
                (unexpected.Count > 0 ? $"unexpected keys [{string.Join(", ", unexpected)}]; " : "") +
                (badShape.Count > 0 ? $"shape mismatches [{string.Join("; ", badShape)}]; " : "") +
                "was it written for a different model config?");
        }
        using var _ = torch.no_grad();
        foreach (var (key, target) in expected) target.copy_(tensors[key]);
        foreach (var t in tensors.Values) t.Dispose();
    }

    /// <summary>Fills a temp folder beside <paramref name="dir"/> and its checksums; the returned checkpoint swaps it in.</summary>
    public static StagedCheckpoint Prepare(string dir, Action<string> fill)
    {
        string full = Path.GetFullPath(dir);
        string parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        string tmp = full + $".tmp-{Environment.ProcessId}";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        try
        {
            fill(tmp);
            CheckpointChecksums.Write(tmp); // last, so that a checkpoint with checksums is a complete one
        }
        catch { Directory.Delete(tmp, true); throw; }
        return new StagedCheckpoint(full, tmp);
    }

    /// <summary>The checkpoint folder to read at <paramref name="dir"/>: the folder itself, or its <c>.old</c> twin when a
    /// crash fell between the two renames of <see cref="StagedCheckpoint.Commit"/>.</summary>
    public static string? Locate(string dir)
    {
        string full = Path.GetFullPath(dir);
        if (File.Exists(Path.Combine(full, StateFile))) return full;
        return File.Exists(Path.Combine(full + ".old", StateFile)) ? full + ".old" : null;
    }
}
