using Distill.Checkpoints;
using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// The checkpoint folders (<see cref="CheckpointIO"/>) stages write: a model-only one (a stage's final or best model,
/// rebuilt by <see cref="ModelCheckpoint.Load"/>), and a resumable one of a <see cref="TrainingSession"/>, which adds the
/// projectors, the optimizer's state and the session's generator. Neither is written when a tensor is not finite.
/// </summary>
public static class TrainingCheckpoints
{
    /// <summary>Writes a model-only checkpoint (a stage's final or best model); refused when a tensor is not finite.</summary>
    public static void SaveModel(string dir, DistillModel model, CheckpointState state)
    {
        RefuseNonFinite(state.Stage, state.Step, dir, model.state_dict().Select(kv => (kv.Key, kv.Value)));
        CheckpointIO.Prepare(dir, tmp => CheckpointIO.WriteModel(tmp, model, ModelCheckpoint.Describe(state with { Resumable = false }, model))).Commit();
    }

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
        return CheckpointIO.Prepare(dir, tmp =>
        {
            CheckpointIO.WriteModel(tmp, session.Model, ModelCheckpoint.Describe(new CheckpointState
            {
                Stage = session.Stage, Kind = kind, Step = session.Step, TotalSteps = session.TotalSteps,
                BestAccuracy = double.IsNaN(session.BestAccuracy) ? null : session.BestAccuracy,
                BestWer = double.IsNaN(session.BestWer) ? null : session.BestWer,
                RecipeSha256 = recipeSha256, Resumable = true, RecentLosses = [.. session.RecentLosses],
            }, session.Model));
            if (session.Objective.Trainable is { } extra) SafeTensors.Save(Path.Combine(tmp, CheckpointIO.ProjectorsFile), extra.state_dict());
            using (var w = new BinaryWriter(File.Create(Path.Combine(tmp, CheckpointIO.OptimizerFile))))
                session.Optimizer.save_state_dict(w);
            // Under "torch", where the global generator's state was kept before training drew from the session's: a CPU
            // checkpoint of either kind restores the same way.
            SafeTensors.Save(Path.Combine(tmp, CheckpointIO.RngFile), new Dictionary<string, Tensor> { ["torch"] = session.Generator.get_state() });
        });
    }

    /// <summary>Restores optimizer, projector and generator state of a resumable checkpoint into a freshly built session, after <see cref="CheckpointIO.Verify"/>.</summary>
    public static void RestoreSession(string dir, TrainingSession session)
    {
        var state = CheckpointIO.Verify(dir);
        if (!state.Resumable) throw new InvalidInputException(dir, $"{dir} holds a model only; it cannot resume training.");
        CheckpointIO.LoadStrict(Path.Combine(dir, CheckpointIO.ModelFile), session.Model);
        if (session.Objective.Trainable is { } extra) CheckpointIO.LoadStrict(Path.Combine(dir, CheckpointIO.ProjectorsFile), extra);
        string optimizer = Path.Combine(dir, CheckpointIO.OptimizerFile);
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
        string rngPath = Path.Combine(dir, CheckpointIO.RngFile);
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
        session.BestWer = state.BestWer ?? double.NaN;
        session.RecentLosses.Clear();
        session.RecentLosses.AddRange(state.RecentLosses ?? []);
    }

    private static void RefuseNonFinite(string stage, long step, string dir, IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        if (NonFiniteGuard.FirstNonFinite(tensors) is { } bad) throw new NonFiniteStateException(stage, step, bad.Name, bad.Count, dir);
    }
}
