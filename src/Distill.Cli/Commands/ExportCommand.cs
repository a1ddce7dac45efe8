using System.ComponentModel;
using Distill.Checkpoints;
using Distill.Hf;
using Distill.Runs;
using Spectre.Console.Cli;

namespace Distill.Cli.Commands;

/// <summary><c>distill export</c>: a stage's final model as a HuggingFace folder (see <see cref="HfRunExport"/>).</summary>
public sealed class ExportCommand : Command<ExportCommand.Settings>
{
    public const string Summary = "write a run stage's model as a HuggingFace folder (config.json + model.safetensors + tokenizer)";

    public static string Details => $"""
        Writes the final model of a stage (<run-dir>/models/<stage>/) as a folder that HuggingFace transformers loads
        with from_pretrained: config.json (architectures, model_type, num_labels, id2label), model.safetensors, and
        the tokenizer or processor files ({string.Join(", ", HfRunExport.TokenizerFiles)}) of the run's
        HF folders (the stage's own pretrained folder, the teacher's pretrained folder, then data.tokenizer).
        Only the HF class's tensors are written: projectors and hint modules never are.
        Only for HF families ({string.Join(", ", HfArchitectureRegistry.Default.Families.Select(f => f.Family))}).
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<run-dir>")]
        [Description("the run folder")]
        public string RunDir { get; init; } = "";

        [CommandOption("--stage <NAME>")]
        [Description("the stage whose model to export (e.g. distill); required")]
        public string? Stage { get; init; }

        [CommandOption("--out <FOLDER>")]
        [Description("the folder to create (must not exist or be empty); required")]
        public string? Out { get; init; }

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
}
