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

            // TensorBoard carries the CTC metrics.
            var tags = TensorBoardEvents.ReadScalars(Path.Combine(runDir, "tb", "distill")).Select(s => s.Tag).ToHashSet();
            Assert.Superset(new HashSet<string> { "eval/wer", "eval/cer", "eval/exact_match", "eval/loss", "loss/kd", "loss/hidden" }, tags);

            // distill eval: the run's WER and CER at the top level of its JSON.
            string recipePath = Path.Combine(root, "ctc.yaml"), metricsPath = Path.Combine(root, "metrics.json");
            var (exit, output, err) = Cli.CliRunner.Run("eval", Path.Combine(runDir, "models", "distill"), "--recipe", recipePath, "--out", metricsPath);
            Assert.True(exit == 0, output + err);
            var evaluated = JsonNode.Parse(File.ReadAllText(metricsPath))!;
            var recorded = summary["stages"]!.AsArray().Single(st => st!["name"]!.GetValue<string>() == "distill")!["metrics"]!;
            Assert.Equal(recorded["wer"]!.GetValue<double>(), evaluated["wer"]!.GetValue<double>(), 6);
            Assert.Equal(recorded["cer"]!.GetValue<double>(), evaluated["cer"]!.GetValue<double>(), 6);
            Assert.Equal(8, evaluated["examples"]!.GetValue<long>());

            // distill predict: one transcription per WAV, decoded with the exported folder's vocab.json.
            string clips = Path.Combine(root, "clips");
            Directory.CreateDirectory(clips);
            foreach (string name in new[] { "0_george_0.wav", "7_jackson_1.wav" })
                File.Copy(Path.Combine(TestPaths.Data, "fsdd", name), Path.Combine(clips, name));
            string predictions = Path.Combine(root, "predictions.jsonl");
            (exit, output, err) = Cli.CliRunner.Run("predict", Path.Combine(runDir, "models", "distill"), "--recipe", recipePath, "--input", clips, "--out", predictions);
            Assert.True(exit == 0, output + err);
            var lines = File.ReadAllLines(predictions).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            Assert.Equal(2, lines.Count);
            Assert.All(lines, l => Assert.Equal(["index", "input", "transcription"], l.Select(kv => kv.Key)));
        }
        finally { TestRecipes.DeleteDir(root); }
    }
}
