using System.ComponentModel;
using Distill.Stages;
using Distill.Checkpoints;
using Distill.Hf;
using Distill.Models.OnnxGraph;
using Distill.Onnx.Export;
using Distill.Runs;
using Spectre.Console.Cli;

namespace Distill.Cli.Commands;

/// <summary><c>distill export</c>: a stage's final model as a HuggingFace folder (see <see cref="HfRunExport"/>) or, with
/// <c>--format onnx</c>, as an ONNX graph checked in ONNX Runtime (see <c>Runs.OnnxRunExport</c>).</summary>
public sealed class ExportCommand : Command<ExportCommand.Settings>
{
    public const string Summary = "write a run stage's model as a HuggingFace folder (config.json + model.safetensors + tokenizer) or an ONNX graph";

    public static string Details => $"""
        Writes the final model of a stage (<run-dir>/models/<stage>/) as a folder that HuggingFace transformers loads
        with from_pretrained: config.json (architectures, model_type, num_labels, id2label), model.safetensors, and
        the tokenizer or processor files ({string.Join(", ", HfRunExport.TokenizerFiles)}) of the run's
        HF folders (the stage's own pretrained folder, the teacher's pretrained folder, then data.tokenizer).
        Only the HF class's tensors are written: projectors and hint modules never are.
        Only for HF families ({string.Join(", ", HfArchitectureRegistry.Default.Families.Select(f => f.Family))}).

        --format onnx writes --out as one .onnx file instead (families: {string.Join(", ", OnnxExportRegistry.Default.Families.Order())}),
        opset {OnnxExportOptions.DefaultOpset}, inputs and outputs by HF name (input_ids, attention_mask, token_type_ids, pixel_values,
        input_values -> logits) with dynamic batch and sequence/audio axes. A quantize stage's (qat/ptq) model is written
        as int8 (its trained codes as int8 initializers behind DequantizeLinear, per-channel scales; its activation ranges
        as QuantizeLinear/DequantizeLinear pairs) unless --precision fp32. Beside it, <out>.report.json: file bytes,
        parameters and non-zeros, the largest difference between ONNX Runtime's and Distill's logits, accuracy of both
        on the run's evaluation split (the run's recipe, or --recipe), and p50/p90 latency of ONNX Runtime and TorchSharp
        at --batch and --threads; the same as a table at the end.
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<run-dir>")]
        [Description("the run folder")]
        public string RunDir { get; init; } = "";

        [CommandOption("--stage <NAME>")]
        [Description("the stage whose model to export (e.g. distill); required")]
        public string? Stage { get; init; }

        [CommandOption("--out <PATH>")]
        [Description("the folder to create (must not exist or be empty), or with --format onnx the .onnx file; required")]
        public string? Out { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("hf (a HuggingFace folder, the default) or onnx (one .onnx file and its report)")]
        public string Format { get; init; } = "hf";

        [CommandOption("--precision <P>")]
        [Description("onnx: auto (int8 for a qat/ptq quantize stage, else fp32), fp32 or int8")]
        public string Precision { get; init; } = "auto";

        [CommandOption("--recipe <RECIPE>")]
        [Description("onnx: the recipe whose evaluation data the report uses (default: the run's)")]
        public string? Recipe { get; init; }

        [CommandOption("--batch <N>")]
        [Description("onnx: batch size of the report's latency rows (default 1)")]
        public int Batch { get; init; } = 1;

        [CommandOption("--threads <N>")]
        [Description("onnx: intra-op threads while timing (default 1)")]
        public int Threads { get; init; } = 1;

        [CommandOption("--no-report")]
        [Description("onnx: write the graph only")]
        public bool NoReport { get; init; }

        [CommandOption("--files-from <FOLDER>")]
        [Description("copy the tokenizer/processor files from this folder instead")]
        public string? FilesFrom { get; init; }

        [CommandOption("--overwrite")]
        [Description("replace a non-empty --out folder")]
        public bool Overwrite { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string stage = settings.Stage ?? throw new UsageException("--stage <name> is required.");
        if (settings.Format is not ("hf" or "onnx"))
            throw new UsageException($"--format '{settings.Format}' is not a format export writes; use hf or onnx.");
        if (settings.Format == "onnx") return ExportOnnx(stage, settings);
        string outDir = settings.Out ?? throw new UsageException("--out <hf-folder> is required.");
        try
        {
            // The class names a run recorded (datasets with named labels) become the folder's id2label.
            var labels = File.Exists(Path.Combine(settings.RunDir, RunSummary.FileName)) ? RunSummary.Read(settings.RunDir).Labels : null;
            var result = HfRunExport.Export(settings.RunDir, stage, outDir, settings.FilesFrom, settings.Overwrite, labels: labels);
            Console.WriteLine($"exported stage '{stage}' to {result.OutDir}: {result.Keys.Count} tensors; files: {string.Join(", ", result.Files)}");
            if (result.DroppedKeys.Count > 0) Console.WriteLine($"  left out (not part of the HF model): {string.Join(", ", result.DroppedKeys)}");
            if (!result.Files.Any(f => HfRunExport.TokenizerFiles.Contains(f)))
                Console.WriteLine("  warning: no tokenizer/processor files were found in the run's HF folders; pass --files-from <folder> to add them.");
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is HfFolderException or InvalidDataException or FileNotFoundException or StateDictMismatchException
                                      or KeyNotFoundException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (Exception e) when (e is not InvalidInputException && Environment.GetEnvironmentVariable("DISTILL_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: the export failed: {e.Message}\n(set DISTILL_DEBUG=1 for the stack trace)");
            return ExitCodes.Failure;
        }
    }

    private static int ExportOnnx(string stage, Settings settings)
    {
        string path = settings.Out ?? throw new UsageException("--out <file.onnx> is required.");
        if (settings.Batch < 1) throw new UsageException($"--batch must be at least 1, got {settings.Batch}.");
        if (settings.Threads < 1) throw new UsageException($"--threads must be at least 1, got {settings.Threads}.");
        if (settings.FilesFrom is not null) throw new UsageException("--files-from is for --format hf (an .onnx file carries no tokenizer files).");
        try
        {
            var options = new OnnxRunExportOptions
            {
                Precision = settings.Precision, Report = !settings.NoReport, RecipePath = settings.Recipe, BatchSize = settings.Batch, Threads = settings.Threads,
            };
            var result = OnnxRunExport.Export(settings.RunDir, stage, path, options);
            var e = result.Export;
            Console.WriteLine($"exported stage '{stage}' to {e.Path}: {result.Precision}, {e.Bytes:N0} bytes, opset {e.Opset}, " +
                              $"{string.Join(", ", e.Inputs)} -> {string.Join(", ", e.Outputs)}");
            if (result.Report is { } report)
            {
                Console.WriteLine($"report: {result.ReportPath}");
                Console.Write(report.Table());
            }
            return ExitCodes.Success;
        }
        catch (OnnxExportException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (Exception e) when (e is not InvalidInputException && Environment.GetEnvironmentVariable("DISTILL_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: the ONNX export failed: {e.Message}\n(set DISTILL_DEBUG=1 for the stack trace)");
            return ExitCodes.Failure;
        }
    }
}
