using System.Text.Json;
using Distill.Models;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Checkpoints;

/// <summary>
/// Distill checkpoint folders: <c>state.json</c>, <c>model.safetensors</c> (the model's full state dict, HF-compatible
/// names), and for resumable ones <c>projectors.safetensors</c>, <c>optimizer.bin</c> and <c>rng.safetensors</c>.
/// A folder is written beside its destination and renamed into place, so a reader never sees half a checkpoint:
/// the previous checkpoint stays valid until the new one is complete.
/// </summary>
public static class CheckpointIO
{
    public const string StateFile = "state.json";
    public const string ModelFile = "model.safetensors";
    private const string ProjectorsFile = "projectors.safetensors";
    private const string OptimizerFile = "optimizer.bin";
    private const string RngFile = "rng.safetensors";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Writes a resumable checkpoint of a training session.</summary>
    public static void SaveSession(string dir, TrainingSession session, string kind, string recipeSha256) =>
        WriteAtomically(dir, tmp =>
        {
            WriteModel(tmp, session.Model, new CheckpointState
            {
                Stage = session.Stage, Kind = kind, Step = session.Step, TotalSteps = session.TotalSteps,
                BestAccuracy = double.IsNaN(session.BestAccuracy) ? null : session.BestAccuracy,
                RecipeSha256 = recipeSha256, Resumable = true,
            });
            if (session.Objective.Trainable is { } extra) SafeTensors.Save(Path.Combine(tmp, ProjectorsFile), StateDict(extra));
            using (var w = new BinaryWriter(File.Create(Path.Combine(tmp, OptimizerFile))))
                session.Optimizer.save_state_dict(w);
            SafeTensors.Save(Path.Combine(tmp, RngFile), new Dictionary<string, Tensor> { ["torch"] = torch.get_rng_state() });
        });

    /// <summary>Writes a model-only checkpoint (a stage's final or best model).</summary>
    public static void SaveModel(string dir, DistillModel model, CheckpointState state) =>
        WriteAtomically(dir, tmp => WriteModel(tmp, model, state with { Resumable = false }));

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
    /// Checks a checkpoint folder without loading it: its state, and the safetensors headers of its tensor files
    /// against their sizes. Returns the state.
    /// </summary>
    public static CheckpointState Verify(string dir)
    {
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

    /// <summary>Builds the model a checkpoint describes and loads its weights (strict).</summary>
    public static DistillModel LoadModel(string dir, ModelRegistry registry)
    {
        var state = ReadState(dir);
        var family = registry.Get(state.Family);
        var config = (IModelConfig?)state.Config.Deserialize(family.ConfigType)
                     ?? throw new InvalidDataException($"{dir}/{StateFile}: no config");
        var model = family.Build(config);
        LoadWeights(dir, model);
        return model;
    }

    /// <summary>Loads <c>model.safetensors</c> into <paramref name="model"/>; every key must match, in name and shape.</summary>
    public static void LoadWeights(string dir, nn.Module model) => LoadStrict(Path.Combine(dir, ModelFile), model);

    /// <summary>Restores optimizer, projector and RNG state of a resumable checkpoint into a freshly built session.</summary>
    public static void RestoreSession(string dir, TrainingSession session)
    {
        var state = ReadState(dir);
        if (!state.Resumable) throw new InvalidDataException($"{dir} holds a model only; it cannot resume training.");
        LoadWeights(dir, session.Model);
        if (session.Objective.Trainable is { } extra) LoadStrict(Path.Combine(dir, ProjectorsFile), extra);
        using (var r = new BinaryReader(File.OpenRead(Path.Combine(dir, OptimizerFile))))
            session.Optimizer.load_state_dict(r);
        torch.set_rng_state(SafeTensors.Load(Path.Combine(dir, RngFile))["torch"]);
        session.Step = state.Step;
        session.BestAccuracy = state.BestAccuracy ?? double.NaN;
    }

    private static void WriteModel(string dir, DistillModel model, CheckpointState state)
    {
        var full = state with
        {
            Family = model.Family,
            Config = JsonSerializer.SerializeToElement(model.Config, model.Config.GetType()),
        };
        SafeTensors.Save(Path.Combine(dir, ModelFile), StateDict(model));
        File.WriteAllText(Path.Combine(dir, StateFile), JsonSerializer.Serialize(full, Json));
    }

    private static Dictionary<string, Tensor> StateDict(nn.Module module) => module.state_dict();

    private static void LoadStrict(string path, nn.Module module)
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
            throw new InvalidDataException(
                $"{path} does not match the model: " +
                (missing.Count > 0 ? $"missing keys [{string.Join(", ", missing)}]; " : "") +
                (unexpected.Count > 0 ? $"unexpected keys [{string.Join(", ", unexpected)}]; " : "") +
                (badShape.Count > 0 ? $"shape mismatches [{string.Join("; ", badShape)}]; " : "") +
                "was it written for a different model config?");
        using var _ = torch.no_grad();
        foreach (var (key, target) in expected) target.copy_(tensors[key]);
        foreach (var t in tensors.Values) t.Dispose();
    }

    /// <summary>Fills a temp folder beside <paramref name="dir"/>, then swaps it in: old → .old, temp → dir, delete .old.</summary>
    private static void WriteAtomically(string dir, Action<string> fill)
    {
        string full = Path.GetFullPath(dir);
        string parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        string tmp = full + $".tmp-{Environment.ProcessId}";
        string old = full + ".old";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        try { fill(tmp); }
        catch { Directory.Delete(tmp, true); throw; }
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(full)) Directory.Move(full, old);
        Directory.Move(tmp, full);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    /// <summary>The checkpoint folder to read at <paramref name="dir"/>: the folder itself, or its <c>.old</c> twin when a
    /// crash fell between the two renames of <see cref="WriteAtomically"/>.</summary>
    public static string? Locate(string dir)
    {
        string full = Path.GetFullPath(dir);
        if (File.Exists(Path.Combine(full, StateFile))) return full;
        return File.Exists(Path.Combine(full + ".old", StateFile)) ? full + ".old" : null;
    }
}
