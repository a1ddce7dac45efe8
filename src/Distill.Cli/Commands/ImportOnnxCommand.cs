using System.ComponentModel;
using Distill.Checkpoints;
using Distill.Hf;
using Distill.Onnx;
using Spectre.Console.Cli;

namespace Distill.Cli.Commands;

/// <summary>
/// <c>distill import onnx</c> (the <c>onnx</c> command of the <c>import</c> branch): a BERT encoder exported by torch.onnx as a HuggingFace folder (see
/// <see cref="OnnxBertImporter"/>), so a pretrained model shipped only as .onnx can be a teacher or student.
/// </summary>
public sealed class ImportOnnxCommand : Command<ImportOnnxCommand.Settings>
{
    public const string Summary = "turn a BERT encoder exported to ONNX (torch.onnx) into a HuggingFace folder";

    public static string Details => $"""
        Reads a BERT-family encoder exported by torch.onnx from HuggingFace's BertModel (opsets 11-13; e.g. the
        sentence-transformers all-MiniLM-L6-v2 and arctic-embed-xs exports) and writes a HF BertModel folder:
          config.json        every value read from the graph (sizes from the tensors, heads from the attention
                             Reshape, layer_norm_eps from its constant, hidden_act from the Erf/Relu pattern);
                             the values an inference graph cannot hold (dropouts, initializer_range) are HF's
                             defaults; each value's source is printed
          model.safetensors  HF names; Linear weights transposed from ONNX's (in, out) to torch's (out, in)
          vocab.txt, tokenizer_config.json, special_tokens_map.json   with --vocab (vocab.txt with LF line ends;
                             do_lower_case true when no token changes under lower-casing)
        A graph it cannot map (another family such as ViT or wav2vec2, an unknown op, a MatMul weight without its
        bias Add, a head model) is refused with the node and what was expected; nothing is written then.

        Supported op set: {string.Join(", ", OnnxBertReader.SupportedOps)}.
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<model.onnx>")]
        [Description("the ONNX graph (a torch.onnx export of HF's BertModel)")]
        public string Model { get; init; } = "";

        [CommandOption("--out <FOLDER>")]
        [Description("the HF folder to create (must not exist or be empty); required")]
        public string? Out { get; init; }

        [CommandOption("--vocab <FILE>")]
        [Description("the model's WordPiece vocab.txt (CRLF or LF)")]
        public string? Vocab { get; init; }

        [CommandOption("--overwrite")]
        [Description("replace a non-empty --out folder")]
        public bool Overwrite { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string outDir = settings.Out ?? throw new UsageException("--out <hf-folder> is required.");
        string? vocab = settings.Vocab;
        try
        {
            var result = OnnxBertImporter.Import(settings.Model, outDir, vocab, settings.Overwrite);
            var c = result.Config;
            Console.WriteLine($"imported {Path.GetFullPath(settings.Model)} as BertModel into {result.OutDir}: " +
                              $"{c.NumHiddenLayers} layers, hidden {c.HiddenSize}, {c.NumAttentionHeads} heads, FFN {c.IntermediateSize}, vocab {c.VocabSize}, " +
                              $"{(result.HasPooler ? "with pooler" : "no pooler")}; files: {string.Join(", ", result.Files)}");
            foreach (var line in result.Provenance) Console.WriteLine($"  {line}");
            if (vocab is null) Console.WriteLine("  warning: no --vocab: the folder has no tokenizer files; pass the model's vocab.txt to add them.");
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is OnnxImportException or HfFolderException or StateDictMismatchException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("DISTILL_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: the import failed: {e.Message}\n(set DISTILL_DEBUG=1 for the stack trace)");
            return ExitCodes.Failure;
        }
    }
}
