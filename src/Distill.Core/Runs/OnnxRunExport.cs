using Distill.Checkpoints;
using Distill.Compression.Quantization;
using Distill.Data;
using Distill.Models;
using Distill.Onnx.Export;
using Distill.Recipes;
using Distill.Stages;

namespace Distill.Runs;

/// <summary>
/// <c>distill export --format onnx</c>: a run stage's final model as an ONNX graph (<see cref="OnnxExporter"/>),
/// int8 when the stage is a <c>quantize</c> stage's (its recorded codes, <see cref="OnnxInt8Export"/>), then checked
/// in ONNX Runtime against Distill's own forward on the run's evaluation data, with the latency of both, as
/// <c>&lt;out&gt;.report.json</c>. Bad input (no run, no model for the stage, unknown precision, int8 without a
/// record) is an <see cref="InvalidInputException"/> before anything is written.
/// </summary>
public static class OnnxRunExport
{
    public static IReadOnlyList<string> Precisions { get; } = ["auto", "fp32", "int8"];

    public static OnnxRunExportResult Export(string runDir, string stage, string outPath, OnnxRunExportOptions? options = null)
    {
        options ??= new OnnxRunExportOptions();
        string run = Path.GetFullPath(runDir);
        if (!Precisions.Contains(options.Precision))
            throw new InvalidInputException(run, $"--precision '{options.Precision}' is not one of {string.Join(", ", Precisions)}.");
        if (!Directory.Exists(run)) throw new InvalidInputException(run, $"{run}: run folder not found.");
        string output = Path.GetFullPath(outPath);
        if (Directory.Exists(output)) throw new InvalidInputException(output, $"{output} is a folder; --out names the .onnx file to write.");
        string modelDir = Path.Combine(run, "models", stage);
        string located = CheckpointIO.Locate(modelDir) ?? throw new InvalidInputException(modelDir,
            $"{run}: stage '{stage}' has no final model (no {Path.Combine("models", stage, CheckpointIO.StateFile)}); stages with models: {StagesWithModels(run)}.");
        CheckpointIO.Verify(located);
        using var model = ModelCheckpoint.Load(located, ModelRegistry.Default);
        OnnxExportRegistry.Default.Get(model.Family); // a family without an ONNX export fails here, before anything is written

        var record = QuantizationRecord.Load(modelDir);
        if (record.Weights.Count == 0 && located != modelDir) record = QuantizationRecord.Load(located);
        if (options.Precision == "int8" && record.Weights.Count == 0)
            throw new InvalidInputException(modelDir,
                $"{modelDir}: stage '{stage}' left no {QuantizationRecord.FileName}, so there are no trained codes to export as int8; export a qat/ptq quantize stage, or use --precision fp32.");

        // Data for the report is opened before writing, so a bad recipe leaves nothing behind.
        var recipe = options.Report ? ReportRecipe(run, options.RecipePath) : null;
        (string Split, IDataset Data)? eval = recipe is null ? null : RunInputs.OpenEvalSplits(recipe, [recipe.Data.EvalSplit])[0];
        try
        {
            return OnnxModelExport.Export(model, record, output, eval, recipe?.Data.EvalBatchSize ?? 1, options);
        }
        finally
        {
            (eval?.Data as IDisposable)?.Dispose();
        }
    }

    private static Recipe? ReportRecipe(string run, string? given)
    {
        string? path = given;
        if (path is null && File.Exists(Path.Combine(run, RunSummary.FileName)))
        {
            string recorded = RunSummary.Read(run).RecipePath;
            if (File.Exists(recorded)) path = recorded;
        }
        if (path is null) return null;
        var loaded = RecipeLoader.Load(path);
        if (!loaded.Succeeded)
            throw new InvalidInputException(path, $"{path}: the recipe for the export report does not load: {string.Join("; ", loaded.Errors.Select(e => e.ToString()).Take(3))}");
        return loaded.Recipe;
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
