using System.Text.Json;
using Distill.Checkpoints;

namespace Distill.Models;

/// <summary>
/// A <see cref="DistillModel"/> as a checkpoint folder (<see cref="CheckpointIO"/>): its weights, and in
/// <c>state.json</c> its family and config, which rebuild it without the recipe. Training writes these folders
/// (<c>Training.TrainingCheckpoints</c>).
/// </summary>
public static class ModelCheckpoint
{
    /// <summary><paramref name="state"/> with the family and config of <paramref name="model"/>.</summary>
    public static CheckpointState Describe(CheckpointState state, DistillModel model) => state with
    {
        Family = model.Family,
        Config = JsonSerializer.SerializeToElement(model.Config, model.Config.GetType()),
    };

    /// <summary>Builds the model a checkpoint describes and loads its weights (strict), after <see cref="CheckpointIO.Verify"/>.</summary>
    public static DistillModel Load(string dir, ModelRegistry registry)
    {
        var state = CheckpointIO.Verify(dir);
        var family = registry.Get(state.Family);
        string statePath = Path.Combine(dir, CheckpointIO.StateFile);
        IModelConfig? config;
        try { config = (IModelConfig?)state.Config.Deserialize(family.ConfigType); }
        catch (JsonException e) { throw new InvalidInputException(statePath, $"{statePath}: its config does not bind to the {state.Family} family ({e.Message}).", e); }
        if (config is null) throw new InvalidInputException(statePath, $"{statePath}: no config.");
        var model = family.Build(config);
        try { CheckpointIO.LoadStrict(Path.Combine(dir, CheckpointIO.ModelFile), model); }
        catch { model.Dispose(); throw; }
        return model;
    }
}
