using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Checkpoints;
using Distill.Hf;
using Distill.Models.Bert;
using Distill.Text;
using Google.Protobuf;
using Onnx;

namespace Distill.Onnx;

/// <summary>
/// <c>distill import onnx</c>: turns a BERT encoder exported by torch.onnx (see <see cref="OnnxBertReader"/>) into a
/// HuggingFace <c>BertModel</c> folder: config.json, model.safetensors (HF names, torch layouts) and, given the
/// vocabulary, vocab.txt (LF line ends) with tokenizer_config.json and special_tokens_map.json. The folder is written
/// beside the target and renamed into place (<see cref="HfExporter"/>), so a failed import leaves nothing behind.
/// <para>Parsing uses the ONNX protobuf classes of OnnxSharp over Google.Protobuf, whose stream size limit is
/// Int32.MaxValue by default, so a 90 MB graph parses as is (ONNX files hold at most 2 GB anyway).</para>
/// </summary>
public static class OnnxBertImporter
{
    private static readonly string[] SpecialTokens = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"];

    /// <summary>Parses an .onnx file.</summary>
    /// <exception cref="OnnxImportException">Missing or not an ONNX protobuf.</exception>
    public static ModelProto ReadFile(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new OnnxImportException($"{full}: ONNX file not found.");
        try
        {
            using var stream = File.OpenRead(full);
            var model = ModelProto.Parser.ParseFrom(stream);
            if (model.Graph is null) throw new OnnxImportException($"{full}: not an ONNX model (no graph); give the .onnx file torch.onnx.export wrote.");
            return model;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxImportException($"{full}: not an ONNX model file ({e.Message}); give the .onnx file torch.onnx.export wrote.");
        }
    }

    /// <summary>Reads <paramref name="onnxPath"/> and writes the HF folder <paramref name="outDir"/>.</summary>
    /// <param name="onnxPath">The exported graph.</param>
    /// <param name="outDir">The folder to create (must not exist or be empty unless <paramref name="overwrite"/>).</param>
    /// <param name="vocabPath">The model's WordPiece vocab.txt (CRLF or LF); null writes no tokenizer files.</param>
    /// <param name="overwrite">Replace a non-empty <paramref name="outDir"/>.</param>
    /// <exception cref="OnnxImportException">The graph or vocabulary cannot be imported (nothing written).</exception>
    public static OnnxImportResult Import(string onnxPath, string outDir, string? vocabPath = null, bool overwrite = false)
    {
        string source = Path.GetFullPath(onnxPath);
        string target = Path.GetFullPath(outDir);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !overwrite)
            throw new OnnxImportException($"{target}: the output folder exists and is not empty; choose a new folder or pass --overwrite.");
        var model = ReadFile(source);
        using var read = OnnxBertReader.Read(model, source);
        var notes = new List<string> { $"graph: {model.ProducerName} {model.ProducerVersion}, opset {string.Join(", ", model.OpsetImport.Select(o => (o.Domain.Length == 0 ? "" : o.Domain + ":") + o.Version))}" };
        notes.AddRange(read.Provenance);

        var config = read.Config;
        var textFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        if (vocabPath is not null)
        {
            var vocab = ReadVocab(vocabPath, config.VocabSize);
            string full = Path.GetFullPath(vocabPath);
            bool lower = ImpliesLowerCase(vocab, out var cased);
            int pad = vocab.IndexOf("[PAD]");
            config = config with { PadTokenId = pad };
            notes.Add($"pad_token_id {pad}: the id of [PAD] in {full}");
            notes.Add(lower
                ? $"do_lower_case true (tokenizer_config.json): no token of {full} changes under lower-casing (an uncased vocabulary)"
                : $"do_lower_case false (tokenizer_config.json): {cased.Count} tokens of {full} have capitals (a cased vocabulary), e.g. {string.Join(", ", cased.Take(5))}");
            textFiles["vocab.txt"] = string.Join('\n', vocab) + "\n";
            textFiles["tokenizer_config.json"] = TokenizerConfig(lower, config.MaxPositionEmbeddings);
            textFiles["special_tokens_map.json"] = SpecialTokensMap();
        }
        else notes.Add("pad_token_id 0: HF's default (no --vocab given, so the folder has no tokenizer files)");

        using var bert = new BertModel(config, addPoolingLayer: read.HasPooler);
        StateDictLoader.Load(bert, read.Tensors, new LoadOptions { SourceName = source }); // strict: every tensor, nothing else
        string configJson = HfConfigJson.WriteBase(config, HfFamilies.Bert, "BertModel");
        var export = HfExporter.Export(bert, configJson, target, overwrite: overwrite, textFiles: textFiles);
        return new OnnxImportResult(export.OutDir, config, read.HasPooler, notes, export.Files);
    }

    /// <summary>One token per line (CRLF or LF, a final newline optional), exactly <paramref name="vocabSize"/> tokens.</summary>
    private static List<string> ReadVocab(string path, int vocabSize)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new OnnxImportException($"{full}: vocabulary file not found.");
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(full)); }
        catch (DecoderFallbackException) { throw new OnnxImportException($"{full}: not UTF-8 text; a WordPiece vocab.txt is UTF-8, one token per line."); }
        if (text.StartsWith('\uFEFF')) text = text[1..];
        var lines = text.Split('\n').Select(l => l.EndsWith('\r') ? l[..^1] : l).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        if (lines.Count != vocabSize)
            throw new OnnxImportException($"{full}: has {lines.Count} tokens, but the graph's embeddings.word_embeddings.weight has {vocabSize} rows; give the vocabulary this model was trained with.");
        foreach (var special in SpecialTokens)
            if (!lines.Contains(special))
                throw new OnnxImportException($"{full}: has no '{special}' token; a BERT WordPiece vocabulary has {string.Join(", ", SpecialTokens)}.");
        try { _ = BertTextTokenizer.FromVocab(lines); }
        catch (InvalidDataException e) { throw new OnnxImportException($"{full}: {e.Message}"); }
        return lines;
    }

    /// <summary>An uncased vocabulary (bert-base-uncased's) was built from lower-cased text: lower-casing changes none of
    /// its tokens. One with capitals (bert-base-cased's "The", "##A") is cased. Special tokens ([CLS], ...) do not count.</summary>
    private static bool ImpliesLowerCase(List<string> vocab, out List<string> cased)
    {
        cased = vocab.Where(t => !(t.StartsWith('[') && t.EndsWith(']')) && t.ToLowerInvariant() != t).ToList();
        return cased.Count == 0;
    }

    private static string TokenizerConfig(bool doLowerCase, int maxLength)
    {
        var node = new JsonObject
        {
            ["cls_token"] = "[CLS]",
            ["do_basic_tokenize"] = true,
            ["do_lower_case"] = doLowerCase,
            ["mask_token"] = "[MASK]",
            ["model_max_length"] = maxLength,
            ["pad_token"] = "[PAD]",
            ["sep_token"] = "[SEP]",
            ["strip_accents"] = null,
            ["tokenize_chinese_chars"] = true,
            ["tokenizer_class"] = "BertTokenizer",
            ["unk_token"] = "[UNK]",
        };
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static string SpecialTokensMap()
    {
        var node = new JsonObject
        {
            ["cls_token"] = "[CLS]", ["mask_token"] = "[MASK]", ["pad_token"] = "[PAD]", ["sep_token"] = "[SEP]", ["unk_token"] = "[UNK]",
        };
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
