using System.Text.Json.Nodes;
using Distill.Hf;
using Distill.Runs;
using Distill.Tests.Training;
using Distill.Text;
using Xunit;

namespace Distill.Tests.Ctc;

/// <summary>A whole CTC run (teacher, baseline, distill) on a few FSDD clips: metrics, best checkpoint by WER, processor files, HF export.</summary>
[Collection(SerialCollection.Name)]
public sealed class CtcRunTests
{
    [Fact]
    public void ACtcRunReportsWerAndCerPicksItsBestByWerAndExportsTheProcessor()
    {
        string root = TestRecipes.TempDir();
        try
        {
            string runDir = Path.Combine(root, "run");
            var recipe = CtcRecipes.TinyRun(root);
            new RunExecutor { Recipe = recipe, RecipePath = Path.Combine(root, "ctc.yaml"), RecipeSha256 = "test", RunDir = runDir }.Execute();

            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, RunSummary.FileName)))!.AsObject();
            foreach (var stage in summary["stages"]!.AsArray())
            {
                var metrics = stage!["metrics"]!.AsObject();
                Assert.Equal(["wer", "cer", "exact_match", "loss"], metrics.Select(kv => kv.Key));
                double wer = metrics["wer"]!.GetValue<double>(), cer = metrics["cer"]!.GetValue<double>();
                Assert.True(cer >= 0); // an untrained model inserts many characters: CER can exceed 1
                Assert.True(wer >= 0);
                // Evaluated once (at the last step), so the best WER is the final one; no accuracy is reported.
                Assert.Equal(wer, stage["best_wer"]!.GetValue<double>());
                Assert.False(stage.AsObject().ContainsKey("best_accuracy"));
            }
            var best = Distill.Checkpoints.CheckpointIO.ReadState(Path.Combine(runDir, "checkpoints", "teacher", "best"));
            Assert.NotNull(best.BestWer);
            Assert.Null(best.BestAccuracy);

            // The processor beside the models, and in the exported HF folder.
            var vocabulary = CtcVocabulary.Read(Path.Combine(runDir, TranscriptProcessorFiles.FolderName));
            Assert.Equal(20, vocabulary.Count);
            string hf = Path.Combine(root, "hf");
            HfRunExport.Export(runDir, "distill", hf);
            foreach (string file in new[] { "config.json", "model.safetensors", "vocab.json", "tokenizer_config.json", "preprocessor_config.json" })
                Assert.True(File.Exists(Path.Combine(hf, file)), file);
            Assert.Equal(vocabulary.Tokens, CtcVocabulary.Read(hf).Tokens);
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(hf, "config.json")))!;
            Assert.Equal("Wav2Vec2ForCTC", config["architectures"]![0]!.GetValue<string>());
            var features = Distill.Audio.Wav2Vec2FeatureExtractor.FromJsonFile(Path.Combine(hf, "preprocessor_config.json"));
            Assert.Equal((16000, true, true), (features.SamplingRate, features.DoNormalize, features.ReturnAttentionMask));
            Assert.Contains("Wav2Vec2CTCTokenizer", File.ReadAllText(Path.Combine(hf, "tokenizer_config.json")));
        }
        finally { TestRecipes.DeleteDir(root); }
    }
}
