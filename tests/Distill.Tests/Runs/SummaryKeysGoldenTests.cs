using System.Text.Json.Nodes;
using Distill.Caching;
using Distill.Checkpoints;
using Distill.Compression.Pruning;
using Distill.Models.Design;
using Distill.Compression.Quantization;
using Distill.Design;
using Distill.Losses;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Tests.Compression;
using Distill.Tests.Hf;
using Distill.Tests.Training;
using Xunit;
using Xunit.Abstractions;

namespace Distill.Tests.Runs;

/// <summary>
/// summary.json is a contract scripts rely on: tiny runs exercising every stage kind (and the teacher entries and what
/// building models records) must write exactly the key paths, with their JSON value types, listed in
/// <c>summary-keys.golden.txt</c>, which was generated from the code before stage results became typed records. A
/// resumed run reads summary.json back; what it would write again has the same paths.
/// Set <c>DISTILL_UPDATE_GOLDEN=1</c> to rewrite the file (then review its diff: a changed line is a changed contract).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class SummaryKeysGoldenTests(ITestOutputHelper log)
{
    private static string GoldenPath => Path.Combine(TestPaths.RepoRoot, "tests", "Distill.Tests", "Runs", "summary-keys.golden.txt");

    [Fact]
    public void EveryStageKindWritesTheDocumentedSummaryKeys()
    {
        string root = TestRecipes.TempDir();
        try
        {
            var lines = new List<string>();
            lines.AddRange(RunAndCollect("mlp", CompressionRun(), Path.Combine(root, "mlp")));
            lines.AddRange(RunAndCollect("checkpoint", CheckpointTeacherRun(Path.Combine(root, "mlp", "models", "teacher")), Path.Combine(root, "checkpoint")));
            lines.AddRange(RunAndCollect("design", DesignRun(Path.Combine(root, "profiles")), Path.Combine(root, "design")));
            lines.AddRange(RunAndCollect("pretrained", PretrainedRun(root), Path.Combine(root, "pretrained")));
            lines.AddRange(RunAndCollect("ctc", Ctc.CtcRecipes.TinyRun(Path.Combine(root, "ctc-recipe")), Path.Combine(root, "ctc")));
            string actual = string.Join("\n", lines) + "\n";
            if (Environment.GetEnvironmentVariable("DISTILL_UPDATE_GOLDEN") == "1")
            {
                File.WriteAllText(GoldenPath, actual);
                log.WriteLine($"wrote {GoldenPath}");
            }
            var expected = File.ReadAllText(GoldenPath).ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var got = actual.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            // The set of paths is the contract (JSON objects are unordered); the file lists them in run and write order.
            var missing = expected.Except(got).ToList();
            var added = got.Except(expected).ToList();
            Assert.Equal(expected.Length, expected.Distinct().Count());
            Assert.True(missing.Count == 0 && added.Count == 0,
                $"summary.json key paths changed.\nmissing:\n  {string.Join("\n  ", missing)}\nnew:\n  {string.Join("\n  ", added)}");
        }
        finally { TestRecipes.DeleteDir(root); }
    }

    /// <summary>Runs <paramref name="recipe"/> and lists summary.json's key paths; checks the resume read-back round trip.</summary>
    private static IEnumerable<string> RunAndCollect(string label, Recipe recipe, string runDir)
    {
        new RunExecutor { Recipe = recipe, RecipePath = Path.Combine(runDir, "..", label + ".yaml"), RecipeSha256 = "golden", RunDir = runDir }.Execute();
        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, RunSummary.FileName)))!.AsObject();
        var paths = Paths(label, written).ToList();
        // What --resume reads back is what it would write again.
        var reread = RunSummary.Read(runDir).ToJson();
        Assert.Equal(paths, Paths(label, reread).ToList());
        Assert.Equal(written.ToJsonString(), reread.ToJsonString());
        return paths;
    }

    private static IEnumerable<string> Paths(string label, JsonObject summary)
    {
        foreach (var (key, value) in summary)
        {
            if (key != "stages")
            {
                foreach (var p in Walk(key, value)) yield return $"{label} {p}";
                continue;
            }
            foreach (var stage in value!.AsArray())
            {
                string prefix = $"{label} stages[{stage!["name"]}:{stage["kind"]}]";
                foreach (var (k, v) in stage.AsObject())
                    foreach (var p in Walk(k, v)) yield return $"{prefix}.{p}";
            }
        }
    }

    /// <summary>The paths under a value with their JSON types; array elements merged under <c>[]</c> (sorted, distinct).</summary>
    private static IEnumerable<string> Walk(string path, JsonNode? node)
    {
        switch (node)
        {
            case null:
                yield return $"{path}: null";
                break;
            case JsonObject o:
                yield return $"{path}: object";
                foreach (var (k, v) in o)
                    foreach (var p in Walk($"{path}.{k}", v)) yield return p;
                break;
            case JsonArray a:
                yield return $"{path}: array";
                foreach (var p in a.SelectMany(e => Walk($"{path}[]", e)).Distinct().Order(StringComparer.Ordinal)) yield return p;
                break;
            default:
                var kind = node.GetValueKind();
                yield return $"{path}: {(kind is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False ? "boolean" : kind.ToString().ToLowerInvariant())}";
                break;
        }
    }

    private static TrainSpec Steps(int steps) => new() { Steps = steps, BatchSize = 32, Lr = 1e-3, Seed = 11, HistogramEvery = null, EvalEvery = steps };

    /// <summary>MLPs on the MNIST subset: teacher, baseline, cached distill, magnitude prune, QAT with activations,
    /// k-means, export; structured prune, PTQ under a byte budget, export again.</summary>
    private static Recipe CompressionRun()
    {
        var recipe = CompressionTestRecipes.TinyMlp([
            new TrainTeacherStageSpec { Name = "teacher" },
            new BaselineStageSpec(),
            new DistillStageSpec(),
            new PruneStageSpec { Sparsity = 0.5, Train = Steps(4) },
            new QuantizeStageSpec { Name = "qat", Method = QuantizeMethod.Qat, Bits = 4, ActivationBits = 8, Train = Steps(4) },
            new QuantizeStageSpec { Name = "kmeans", Method = QuantizeMethod.Kmeans, Bits = 4, FineTune = false },
            new WeightlessStageSpec { Name = "weightless", Layers = ["layers.0"], Train = Steps(2) },
            new ExportStageSpec(),
            new PruneStageSpec { Name = "structured", Method = PruneMethod.Structured, Sparsity = 0.5, FineTune = false },
            new QuantizeStageSpec { Name = "allocate", Method = QuantizeMethod.Ptq, TargetRatio = 3, SensitivityBatches = 2 },
            new ExportStageSpec { Name = "export2" },
        ], steps: 8, terms: [new SoftTargetSpec { Temperature = 2, Alpha = 0.5 }]);
        return recipe with { Distill = recipe.Distill with { Cache = new TeacherCacheSpec { Encoding = CacheEncoding.Fp32 } } };
    }

    /// <summary>The teacher from a checkpoint (its own <c>teacher_checkpoint</c> entry), then a baseline.</summary>
    private static Recipe CheckpointTeacherRun(string teacherDir)
    {
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec()], steps: 2);
        return recipe with { Teacher = recipe.Teacher with { Checkpoint = teacherDir } };
    }

    /// <summary>Tiny CNNs: teacher, design under a generous budget (so the largest candidate, deterministically), distill
    /// the pick, check it.</summary>
    private static Recipe DesignRun(string profiles)
    {
        var design = new DesignStageSpec
        {
            Name = "hakd",
            Search = new SearchSpaceSpec { Layers = new IntChoices([1, 2]), Channels = new IntChoices([4, 8]), HiddenSize = new IntChoices([8, 16]) },
            Deployment = new DeploymentSpec { BatchSize = 4, Threads = 1 },
            Budget = new BudgetSpec { LatencyMs = 1000 },
            Measure = new MeasureSpec { Warmup = 1, Repeats = 3, MinSampleMs = 0.2, MaxMeasured = 6, Verify = 2, Folds = 3 },
            Profile = profiles,
        };
        var recipe = TestRecipes.TinyCnn(4, 100, [new TrainTeacherStageSpec { Name = "teacher" }, design, new DistillStageSpec(), new DesignCheckStageSpec { Name = "check" }],
            [new SoftTargetSpec { Kind = "soft_target", Name = "kd", Temperature = 2, Alpha = 0.5 }]);
        return recipe with { Train = recipe.Train with { HistogramEvery = null }, Output = recipe.Output with { Tensorboard = false } };
    }

    /// <summary>A pretrained ViT teacher whose head is resized (a new head, recorded), a student initialised from it.</summary>
    private static Recipe PretrainedRun(string root)
    {
        // A 5-label copy of the ViT fixture, used on CIFAR-10 (10 classes): its head is new.
        string src = HfTestData.Folder(HfTestData.VitCls), five = Path.Combine(root, "vit-5-labels");
        Directory.CreateDirectory(five);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(src, "config.json")))!.AsObject();
        config["id2label"] = new JsonObject(Enumerable.Range(0, 5).Select(i => KeyValuePair.Create(i.ToString(), (JsonNode?)JsonValue.Create($"c{i}"))));
        config["label2id"] = new JsonObject(Enumerable.Range(0, 5).Select(i => KeyValuePair.Create($"c{i}", (JsonNode?)JsonValue.Create(i))));
        File.WriteAllText(Path.Combine(five, "config.json"), config.ToJsonString());
        var weights = SafeTensors.Load(Path.Combine(src, "model.safetensors"));
        weights["classifier.weight"] = weights["classifier.weight"][..5].contiguous();
        weights["classifier.bias"] = weights["classifier.bias"][..5].contiguous();
        SafeTensors.Save(Path.Combine(five, "model.safetensors"), weights, new Dictionary<string, string> { ["format"] = "pt" });
        string path = Path.Combine(root, "pretrained.yaml");
        File.WriteAllText(path, $"""
            teacher:
              pretrained: {five}
            student:
              init_from_teacher:
                layers: [1]
                hidden_size: 16
            data:
              dataset: cifar10
              path: {TestPaths.Data}/cifar10
              train_limit: 16
              eval_limit: 8
              preprocessing:
                mean: [0.5, 0.5, 0.5]
                std: [0.5, 0.5, 0.5]
            distill:
              terms:
                - kind: soft_target
            train:
              steps: 1
              batch_size: 8
            output:
              tensorboard: false
            stages:
              - kind: distill
            """);
        var (recipe, errors) = RecipeValidation.Check(path);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        return recipe!;
    }
}
