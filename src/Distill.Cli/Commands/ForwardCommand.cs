using System.ComponentModel;
using Distill.Checkpoints;
using Distill.Hf;
using Distill.Models;
using Spectre.Console.Cli;
using static TorchSharp.torch;

namespace Distill.Cli.Commands;

/// <summary>
/// <c>distill forward</c>: runs a HuggingFace model folder on named input tensors and writes every output under HF's
/// names, the way HF reference outputs are produced (eval mode, no gradients, hidden states and attentions on). It is
/// the check that a folder Distill loads (or exported) computes what transformers computes.
/// </summary>
public sealed class ForwardCommand : Command<ForwardCommand.Settings>
{
    public const string Summary = "run a HuggingFace model folder on input tensors and write its outputs (by HF names)";

    public static string Details => $"""
        Loads the folder (config.json + model.safetensors, sharded safetensors or pytorch_model.bin; architecture from
        config.json 'architectures'), strictly, then runs it once in eval mode with output_hidden_states and
        output_attentions on, and writes every output tensor to --out (safetensors, written atomically) by HF's names:
        logits, loss (when labels are given), last_hidden_state, pooler_output, hidden_states.N, attentions.N,
        extract_features.

        Input tensors are named as HF's forward arguments: {string.Join(", ", HfForward.InputNames)}
        (only those the model reads; integer ids may be I64 or I32; labels need a model with a head).

        Supported architectures: {string.Join(", ", HfArchitectureRegistry.Default.Names)}.
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--model <FOLDER>")]
        [Description("the HF model folder; required")]
        public string? Model { get; init; }

        [CommandOption("--inputs <FILE>")]
        [Description("safetensors file with the named input tensors; required")]
        public string? Inputs { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("safetensors file to write (its folder is created); required")]
        public string? Out { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string folder = settings.Model ?? throw new UsageException("--model <hf-folder> is required.");
        string inputsPath = settings.Inputs ?? throw new UsageException("--inputs <in.safetensors> is required.");
        string outPath = settings.Out ?? throw new UsageException("--out <out.safetensors> is required.");

        using var scope = NewDisposeScope();
        HfLoadedModel loaded;
        Batch batch;
        try
        {
            loaded = HfFolder.LoadModel(folder, HfArchitectureRegistry.Default);
            foreach (var part in loaded.Report.NewParts)
                Console.Error.WriteLine($"warning: {folder} has no {part.Name} ({string.Join(", ", part.Keys)}): newly initialised (random), as from_pretrained does; its outputs are not the folder's.");
            batch = ReadInputs(inputsPath, loaded);
        }
        catch (Exception e) when (IsInputError(e))
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }

        Dictionary<string, Tensor> outputs;
        try
        {
            outputs = HfForward.Run(loaded, batch);
        }
        catch (ArgumentException e)
        {
            // The models check their inputs (shapes, id ranges, lengths) before any kernel runs.
            Console.Error.WriteLine($"error: {inputsPath}: the inputs do not fit {loaded.Architecture.Name}: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("DISTILL_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: the forward pass failed: {e.Message}\n(set DISTILL_DEBUG=1 for the stack trace)");
            return ExitCodes.Failure;
        }
        finally
        {
            loaded.Model.Dispose();
        }

        try
        {
            string full = Path.GetFullPath(outPath);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            SafeTensors.Save(full, outputs);
            Console.WriteLine($"{loaded.Architecture.Name} ({loaded.Config.ConfigPath}): wrote {outputs.Count} outputs to {full}");
            foreach (var (name, t) in outputs) Console.WriteLine($"  {name,-20} [{string.Join(", ", t.shape)}] {t.dtype}");
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: cannot write {outPath}: {e.Message}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>Reads the input file and checks its names against what the model reads.</summary>
    private static Batch ReadInputs(string path, HfLoadedModel loaded)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"{full}: input file not found.", full);
        var tensors = SafeTensors.Load(full);
        if (tensors.Count == 0) throw new InvalidDataException($"{full}: holds no tensors; give the model's inputs ({string.Join(", ", HfForward.InputNames)}).");
        var unknown = tensors.Keys.Where(k => !HfForward.InputNames.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"{full}: tensor{(unknown.Count == 1 ? "" : "s")} {string.Join(", ", unknown.Select(u => $"'{u}'"))} {(unknown.Count == 1 ? "is" : "are")} not a model input; input names are {string.Join(", ", HfForward.InputNames)}.");

        string arch = loaded.Architecture.Name;
        if (HfArchitectureRegistry.Default.TryGetFamilyByModelType(loaded.Config.ModelType, out var family)
            && ModelRegistry.Default.TryGet(family.Family, out var modelFamily))
        {
            var reads = modelFamily.Inputs;
            var unused = tensors.Keys.Where(k => k != "labels" && !reads.Contains(k)).Order(StringComparer.Ordinal).ToList();
            if (unused.Count > 0)
                throw new InvalidDataException($"{full}: {arch} does not read {string.Join(", ", unused)}; it reads {string.Join(", ", reads)}.");
            if (!tensors.ContainsKey(reads[0]))
                throw new InvalidDataException($"{full}: {arch} needs '{reads[0]}' (it reads {string.Join(", ", reads)}).");
        }
        tensors.Remove("labels", out var labels);
        if (labels is not null && loaded.Architecture.IsBase)
            throw new InvalidDataException($"{full}: holds 'labels', but {arch} is a base model without a head and computes no loss; remove labels.");
        if (tensors.Count == 0) throw new InvalidDataException($"{full}: holds only labels; give the model's inputs too.");
        return new Batch(tensors, labels);
    }

    private static bool IsInputError(Exception e) => e is HfFolderException or StateDictMismatchException or SafeTensorsFormatException
        or PyTorchCheckpointException or PickleSecurityException or InvalidDataException or FileNotFoundException
        or DirectoryNotFoundException or ArgumentException or UnauthorizedAccessException;
}
