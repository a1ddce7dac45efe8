using Distill.Checkpoints;
using Distill.Compression.Artifact;
using Distill.Hf;
using Distill.Models;

namespace Distill.Runs;

/// <summary>
/// A trained model given on the command line (<c>distill eval</c>, <c>distill predict</c>): a Distill model folder (a
/// run's <c>models/&lt;stage&gt;/</c> or a checkpoint: <c>state.json</c> + <c>model.safetensors</c>), a compressed
/// artifact (<c>model.dcmp</c>, or a folder holding one) or a HuggingFace folder (<c>config.json</c> + weights, with its
/// classification head: a folder without one is refused, since a new head would predict at random).
/// </summary>
public static class SavedModel
{
    /// <summary>Loads the model at <paramref name="path"/> (weights checked as when a run loads them); <c>Kind</c> says which of the three it was.</summary>
    public static (DistillModel Model, string Kind) Load(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            if (File.Exists(full) && full.EndsWith(".dcmp", StringComparison.OrdinalIgnoreCase))
                return (ModelArtifact.Load(full, ModelRegistry.Default), "compressed artifact");
            if (!Directory.Exists(full))
                throw new InvalidInputException(full, $"{full}: no such model folder or .dcmp file; give a run's models/<stage> folder, an HF folder or a model.dcmp artifact.");
            if (CheckpointIO.Locate(full) is { } checkpoint)
            {
                CheckpointIO.Verify(checkpoint);
                return (ModelCheckpoint.Load(checkpoint, ModelRegistry.Default), "Distill model folder");
            }
            if (File.Exists(Path.Combine(full, "model.dcmp")))
                return (ModelArtifact.Load(Path.Combine(full, "model.dcmp"), ModelRegistry.Default), "compressed artifact");
            if (File.Exists(Path.Combine(full, "config.json"))) return (LoadHf(full), "HuggingFace folder");
            throw new InvalidInputException(full,
                $"{full}: holds neither state.json + model.safetensors (a Distill model folder), model.dcmp (an artifact) nor config.json (an HF folder).");
        }
        catch (Exception e) when (e is InvalidDataException or SafeTensorsFormatException or PyTorchCheckpointException or HfFolderException
                                      or StateDictMismatchException or KeyNotFoundException or IOException or System.Text.Json.JsonException)
        {
            throw new InvalidInputException(full, $"{full}: the model cannot be loaded: {ErrorText.Of(e)}", e);
        }
    }

    private static DistillModel LoadHf(string folder)
    {
        var info = HfPretrained.Inspect(folder);
        var model = ModelRegistry.Default.Get(info.Family.Family).Build(info.Config);
        try
        {
            var report = HfPretrained.LoadInto(model, folder);
            if (report.NewlyInitialised.Count > 0)
                throw new InvalidInputException(folder,
                    $"{folder}: the folder has no trained classification head ({string.Join(", ", report.NewlyInitialised.Select(n => n.Key).Take(4))} would be new); evaluate a folder saved with its head, e.g. one written by 'distill export'.");
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }
}
