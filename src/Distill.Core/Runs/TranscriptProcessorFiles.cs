using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Audio;
using Distill.Text;

namespace Distill.Runs;

/// <summary>
/// The processor of a run on transcript data, written to <c>&lt;run&gt;/processor/</c> so that <c>distill export</c>
/// puts it in the HF folder and <c>distill predict</c> decodes with it: <c>vocab.json</c> and <c>tokenizer_config.json</c>
/// (a <c>Wav2Vec2CTCTokenizer</c>) and <c>preprocessor_config.json</c> (the <c>Wav2Vec2FeatureExtractor</c> the
/// batches were made with) — what <c>Wav2Vec2Processor.from_pretrained</c> reads.
/// </summary>
public static class TranscriptProcessorFiles
{
    public const string FolderName = "processor";

    /// <summary>The three files by name.</summary>
    public static IReadOnlyDictionary<string, string> Files(CtcVocabulary vocabulary, Wav2Vec2FeatureExtractor extractor)
    {
        var features = JsonSerializer.SerializeToNode(extractor)!.AsObject();
        features["processor_class"] = "Wav2Vec2Processor";
        features["feature_extractor_type"] = "Wav2Vec2FeatureExtractor";
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [CtcVocabulary.FileName] = vocabulary.ToJson(),
            [CtcVocabulary.TokenizerConfigFileName] = vocabulary.TokenizerConfigJson(),
            ["preprocessor_config.json"] = features.ToJsonString(new JsonSerializerOptions { WriteIndented = true }),
        };
    }

    /// <summary>Writes the files to <c>&lt;runDir&gt;/processor/</c> (each through a temporary file and a rename).</summary>
    public static void Write(string runDir, CtcVocabulary vocabulary, Wav2Vec2FeatureExtractor extractor)
    {
        string dir = Path.Combine(runDir, FolderName);
        Directory.CreateDirectory(dir);
        foreach (var (name, text) in Files(vocabulary, extractor))
        {
            string target = Path.Combine(dir, name), tmp = target + ".tmp";
            File.WriteAllText(tmp, text);
            File.Move(tmp, target, overwrite: true);
        }
    }
}
