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
/// the previous checkpoint stays valid until the new one is complete. Each folder carries the SHA-256 of its files
/// (<see cref="CheckpointChecksums"/>), verified whenever it is loaded.
/// </summary>
public static class CheckpointIO
{
    public const string StateFile = "state.json";
    public const string ModelFile = "model.safetensors";
    private const string ProjectorsFile = "projectors.safetensors";
    private const string OptimizerFile = "optimizer.bin";
    private const string RngFile = "rng.safetensors";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Writes a resumable checkpoint of a training session (refused when a tensor is not finite).</summary>
    public static void SaveSession(string dir, TrainingSession session, string kind, string recipeSha256) =>
        StageSession(dir, session, kind, recipeSha256).Commit();

    /// <summary>
    /// Writes a resumable checkpoint into its temp folder and returns it uncommitted: <see cref="StagedCheckpoint.Commit"/>
    /// swaps it in, <see cref="StagedCheckpoint.Discard"/> drops it (the checkpoint callback commits once the next
    /// step's loss has passed the guards). Refused with a <see cref="NonFiniteStateException"/> when a parameter,
    /// buffer, projector or optimizer moment is not finite.
    /// </summary>
    public static StagedCheckpoint StageSession(string dir, TrainingSession session, string kind, string recipeSha256)
    {
        RefuseNonFinite(session.Stage, session.Step, dir, NonFiniteGuard.SessionTensors(session.Model, session.Objective.Trainable, session.Optimizer));
        return Prepare(dir, tmp =>
        {
            WriteModel(tmp, session.Model, new CheckpointState
            {
                Stage = session.Stage, Kind = kind, Step = session.Step, TotalSteps = session.TotalSteps,
                BestAccuracy = double.IsNaN(session.BestAccuracy) ? null : session.BestAccuracy,
                RecipeSha256 = recipeSha256, Resumable = true, RecentLosses = [.. session.RecentLosses],
            });
            if (session.Objective.Trainable is { } extra) SafeTensors.Save(Path.Combine(tmp, ProjectorsFile), StateDict(extra));
            using (var w = new BinaryWriter(File.Create(Path.Combine(tmp, OptimizerFile))))
                session.Optimizer.save_state_dict(w);
            // Under "torch", where the global generator's state was kept before training drew from the session's: a CPU
            // checkpoint of either kind restores the same way.
            SafeTensors.Save(Path.Combine(tmp, RngFile), new Dictionary<string, Tensor> { ["torch"] = session.Generator.get_state() });
        });
    }

    /// <summary>Writes a model-only checkpoint (a stage's final or best model); refused when a tensor is not finite.</summary>
    public static void SaveModel(string dir, DistillModel model, CheckpointState state)
    {
        RefuseNonFinite(state.Stage, state.Step, dir, model.state_dict().Select(kv => (kv.Key, kv.Value)));
        Prepare(dir, tmp => WriteModel(tmp, model, state with { Resumable = false })).Commit();
    }

    private static void RefuseNonFinite(string stage, long step, string dir, IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        if (NonFiniteGuard.FirstNonFinite(tensors) is { } bad) throw new NonFiniteStateException(stage, step, bad.Name, bad.Count, dir);
    }

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

    /// <summary>Builds the model a checkpoint describes and loads its weights (strict), after <see cref="Verify"/>.</summary>
    public static DistillModel LoadModel(string dir, ModelRegistry registry)
    {
        var state = Verify(dir);
        var family = registry.Get(state.Family);
        IModelConfig? config;
        try { config = (IModelConfig?)state.Config.Deserialize(family.ConfigType); }
        catch (JsonException e) { throw new InvalidInputException(Path.Combine(dir, StateFile), $"{Path.Combine(dir, StateFile)}: its config does not bind to the {state.Family} family ({e.Message}).", e); }
        if (config is null) throw new InvalidInputException(Path.Combine(dir, StateFile), $"{Path.Combine(dir, StateFile)}: no config.");
        var model = family.Build(config);
        try { LoadStrict(Path.Combine(dir, ModelFile), model); }
        catch { model.Dispose(); throw; }
        return model;
    }

    /// <summary>Loads <c>model.safetensors</c> into <paramref name="model"/> after <see cref="Verify"/>; every key must match, in name and shape.</summary>
    public static void LoadWeights(string dir, nn.Module model)
    {
        Verify(dir);
        LoadStrict(Path.Combine(dir, ModelFile), model);
    }

    /// <summary>Restores optimizer, projector and generator state of a resumable checkpoint into a freshly built session, after <see cref="Verify"/>.</summary>
    public static void RestoreSession(string dir, TrainingSession session)
    {
        var state = Verify(dir);
        if (!state.Resumable) throw new InvalidInputException(dir, $"{dir} holds a model only; it cannot resume training.");
        LoadStrict(Path.Combine(dir, ModelFile), session.Model);
        if (session.Objective.Trainable is { } extra) LoadStrict(Path.Combine(dir, ProjectorsFile), extra);
        string optimizer = Path.Combine(dir, OptimizerFile);
        try
        {
            using var r = new BinaryReader(File.OpenRead(optimizer));
            session.Optimizer.load_state_dict(r);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or InvalidOperationException or FormatException)
        {
            // Checksums catch damage in checkpoints that have them; this is for older ones and for another optimizer's state.
            throw new InvalidInputException(optimizer,
                $"{optimizer} cannot be read ({ErrorText.Of(e)}): it is truncated or damaged, or holds the state of another optimizer or model. " +
                $"Delete {dir} to restart its stage from the first step.", e);
        }
        string rngPath = Path.Combine(dir, RngFile);
        if (!SafeTensors.Load(rngPath).TryGetValue("torch", out var rng))
            throw new InvalidInputException(rngPath, $"{rngPath} holds no 'torch' generator state; the checkpoint is damaged.");
        try
        {
            session.Generator.set_state(rng);
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException)
        {
            throw new InvalidInputException(rngPath,
                $"{rngPath}: its generator state ({rng.numel()} bytes) does not fit this run's {session.Generator.device.type} generator; " +
                "was the checkpoint written on another device?", e);
        }
        session.Step = state.Step;
        session.BestAccuracy = state.BestAccuracy ?? double.NaN;
        session.RecentLosses.Clear();
        session.RecentLosses.AddRange(state.RecentLosses ?? []);
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
    private static StagedCheckpoint Prepare(string dir, Action<string> fill)
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
