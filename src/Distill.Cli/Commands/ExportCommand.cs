using Distill.Checkpoints;
using Distill.Hf;

namespace Distill.Cli.Commands;

/// <summary><c>distill export</c>: a stage's final model as a HuggingFace folder (see <see cref="HfRunExport"/>).</summary>
public sealed class ExportCommand : ICommand
{
    public string Name => "export";

    public string Summary => "write a run stage's model as a HuggingFace folder (config.json + model.safetensors + tokenizer)";

    public string Help => $"""
        Usage: distill export <run-dir> --stage <name> --out <hf-folder> [--files-from <folder>] [--overwrite]

        Writes the final model of a stage (<run-dir>/models/<stage>/) as a folder that HuggingFace transformers loads
        with from_pretrained: config.json (architectures, model_type, num_labels, id2label), model.safetensors, and
        the tokenizer or processor files ({string.Join(", ", HfRunExport.TokenizerFiles)}) of the run's
        HF folders (the stage's own pretrained folder, the teacher's pretrained folder, then data.tokenizer).
        Only the HF class's tensors are written: projectors and hint modules never are.
        Only for HF families ({string.Join(", ", HfArchitectureRegistry.Default.Families.Select(f => f.Family))}).

        Options:
          --stage <name>         the stage whose model to export (e.g. distill)
          --out <folder>         the folder to create (must not exist or be empty)
          --files-from <folder>  copy the tokenizer/processor files from this folder instead
          --overwrite            replace a non-empty --out folder
          -h, --help             show this help

        Exit codes: 0 success, 1 failure while writing, 2 invalid input (run, stage, family, flags).
        """;

    public int Execute(IReadOnlyList<string> args)
    {
        var parsed = ParsedArgs.Parse(args, new HashSet<string> { "--stage", "--out", "--files-from" }, new HashSet<string> { "--overwrite" });
        if (parsed.Positionals.Count != 1) throw new UsageException("export takes exactly one run folder.");
        string stage = parsed.Single("--stage") ?? throw new UsageException("--stage <name> is required.");
        string outDir = parsed.Single("--out") ?? throw new UsageException("--out <hf-folder> is required.");
        try
        {
            var result = HfRunExport.Export(parsed.Positionals[0], stage, outDir, parsed.Single("--files-from"), parsed.Flag("--overwrite"));
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
