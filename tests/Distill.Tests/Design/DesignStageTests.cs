using System.Text.Json.Nodes;
using System.Xml.Linq;
using Distill.Checkpoints;
using Distill.Design;
using Distill.Models.Design;
using Distill.Models.Init;
using Distill.Losses;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Stages.Results;
using Distill.Tests.Design.Plot;
using Distill.Tests.Recipes;
using Distill.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace Distill.Tests.Design;

/// <summary>
/// The design stage in real runs on the cnn family (real timings, but no assertion on their values: the machine is
/// shared). The stage switches torch's default device to meta to count parameters, hence the collection.
/// </summary>
[Collection(SerialCollection.Name)]
public class DesignStageTests
{
    private static DesignStageSpec Design(string name, double budgetMs, PickKind pick = PickKind.Capacity, string? profile = null) => new()
    {
        Name = name,
        Search = new SearchSpaceSpec { Layers = new IntChoices([1, 2]), Channels = new IntChoices([4, 8]), HiddenSize = new IntChoices([8, 16]) },
        Deployment = new DeploymentSpec { BatchSize = 4, Threads = 1 },
        Budget = new BudgetSpec { LatencyMs = budgetMs },
        Measure = new MeasureSpec { Warmup = 1, Repeats = 3, MinSampleMs = 0.2, MaxMeasured = 6, Verify = 2, Folds = 3 },
        Pick = pick,
        Profile = profile,
    };

    private static Recipe Recipe(IReadOnlyList<StageSpec> stages) => TestRecipes.TinyCnn(4, 100, stages,
        [new SoftTargetSpec { Kind = "soft_target", Name = "kd", Temperature = 2, Alpha = 0.5 }]) with
    {
        Train = TestRecipes.TinyCnn(4, 100, []).Train with { HistogramEvery = null },
    };

    private static RunSummary Execute(Recipe recipe, string dir, bool resume = false) => new RunExecutor
    {
        Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "design-test", RunDir = dir, Resume = resume,
    }.Execute();

    [Fact]
    public void DesignPicksAStudentThatTheFollowingStagesTrainAndTheCheckTimes()
    {
        string dir = TestRecipes.TempDir(), profiles = TestRecipes.TempDir();
        try
        {
            var recipe = Recipe([
                new TrainTeacherStageSpec { Name = "teacher" },
                Design("hakd", budgetMs: 1000, profile: profiles),
                new DistillStageSpec { Name = "distill" },
                new DesignCheckStageSpec { Name = "check" },
            ]);
            var summary = Execute(recipe, dir);
            var design = summary.Stages.OfType<DesignResult>().Single(s => s.Name == "hakd");
            var pickConfig = System.Text.Json.JsonSerializer.Deserialize<CnnConfig>(design.Pick.Config)!;

            // A generous budget: the largest candidate wins (one 8-channel block: its 14x14 map makes the biggest fc), and
            // the distill stage trained exactly that architecture.
            Assert.Equal([8], pickConfig.Channels);
            Assert.Equal(16, pickConfig.HiddenSize);
            var distilled = ModelCheckpoint.Load(Path.Combine(dir, "models", "distill"), ModelRegistry.Default);
            Assert.Equal(pickConfig.Channels, ((CnnConfig)distilled.Config).Channels);
            Assert.Equal(pickConfig.HiddenSize, ((CnnConfig)distilled.Config).HiddenSize);
            Assert.NotEqual(((CnnConfig)recipe.Student.Config!).Channels, ((CnnConfig)distilled.Config).Channels);

            // Summary: every candidate, the fit, the verdict; 2 widths choose 1 or 2 non-decreasing blocks (2 + 3) × 2 hidden = 10.
            Assert.Equal(10, design.Candidates.Count);
            Assert.True((bool)design.WithinBudget);
            Assert.False((design.Warning is not null));
            Assert.True(design.Metrics["latency_ms"] > 0);
            var check = summary.Stages.OfType<DesignCheckResult>().Single(s => s.Name == "check");
            Assert.True((bool)check.WithinBudget);
            Assert.Equal(1000, check.Metrics["budget_ms"]);

            // Plot and TensorBoard.
            var svg = XDocument.Load(Path.Combine(dir, "design", "hakd", "design.svg"));
            var ids = svg.Descendants().Select(e => (string?)e.Attribute("id")).Where(i => i is not null).ToHashSet();
            Assert.Superset(new HashSet<string?> { "budget", "candidates", "pick", "legend" }, ids);
            Assert.Contains(pickConfig.HiddenSize.ToString(), svg.Descendants().Single(e => (string?)e.Attribute("id") == "pick").Value);
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir, "tb", "hakd")));
            // The same plot as a PNG beside the SVG and as the TensorBoard image design/plot (event CRCs checked).
            byte[] png = File.ReadAllBytes(Path.Combine(dir, "design", "hakd", "design.png"));
            var image = DecodedPng.Decode(png);
            Assert.Equal((DesignPlot.Width, DesignPlot.Height), (image.Width, image.Height));
            var colours = image.All().ToList();
            // Anti-aliased strokes need not hit their exact colour, so each is looked for within a tolerance.
            Assert.Contains(colours, p => DecodedPng.Near(p, "#cc0000", 40));   // the budget line and its label
            Assert.Contains(colours, p => DecodedPng.Near(p, "#d62728", 10));   // the pick's ring (2 px)
            Assert.Contains(colours, p => DecodedPng.Near(p, "#1f77b4", 10));   // measured points
            // The Pareto front (#2ca02c, 1.5 px): green below the legend.
            Assert.Contains(colours.Skip(image.Width * 60), p => p.G - Math.Max(p.R, p.B) > 60);
            var (tag, _, tbImage) = Assert.Single(TensorBoardEvents.ReadImages(Path.Combine(dir, "tb", "hakd")));
            Assert.Equal("design/plot", tag);
            Assert.Equal((DesignPlot.Width, DesignPlot.Height), (tbImage.Width, tbImage.Height));
            Assert.Equal(png, tbImage.EncodedImageString.ToByteArray());
            Assert.Contains(TensorBoardEvents.ReadScalars(Path.Combine(dir, "tb", "hakd")), s => s.Tag == "design/pick_ms");
            TensorBoardEvents.AssertUnixWallTimes(TensorBoardEvents.Events(Path.Combine(dir, "tb", "hakd")).ToList());
            Assert.Equal("design/hakd/design.png", design.PlotPng);
            Assert.Contains("PICK", File.ReadAllText(Path.Combine(dir, "design", "hakd", "table.md")));

            // The profile went to the given folder, under the fingerprint's hash, and holds the timed candidates.
            var file = Assert.Single(Directory.GetFiles(profiles, "*.json"));
            Assert.Equal(DeviceFingerprint.Current(torch.CPU, 1).Hash + ".json", Path.GetFileName(file));
        }
        finally
        {
            TestRecipes.DeleteDir(dir);
            TestRecipes.DeleteDir(profiles);
        }
    }

    [Fact]
    public void ASecondRunReusesTheProfileAndAMissedBudgetIsAWarning()
    {
        string first = TestRecipes.TempDir(), second = TestRecipes.TempDir(), profiles = TestRecipes.TempDir();
        try
        {
            var recipe = Recipe([new TrainTeacherStageSpec(), Design("hakd", budgetMs: 1e-6, profile: profiles), new BaselineStageSpec(), new DesignCheckStageSpec()]);
            var a = Execute(recipe, first).Stages.OfType<DesignResult>().Single(s => s.Name == "hakd");
            Assert.True((int)a.TimedNow >= 6);
            var b = Execute(recipe, second).Stages;
            Assert.Equal(0, (int)b.OfType<DesignResult>().Single(s => s.Name == "hakd").TimedNow);

            // 1 ns is impossible: the design warns, picks the fastest measured candidate, and the check warns too.
            var design = b.OfType<DesignResult>().Single(s => s.Name == "hakd");
            Assert.False((bool)design.WithinBudget);
            Assert.Contains("OVER BUDGET", design.Warning!);
            Assert.Contains("no candidate was measured within", design.Warning!);
            var check = b.OfType<DesignCheckResult>().Single();
            Assert.False((bool)check.WithinBudget);
            Assert.Contains("OVER BUDGET", check.Warning!);
            var written = JsonNode.Parse(File.ReadAllText(Path.Combine(second, "summary.json")))!["stages"]!.AsArray();
            Assert.Contains(written, s => (string?)s!["kind"] == "design_check" && ((string?)s["warning"])!.Contains("OVER BUDGET"));
        }
        finally
        {
            TestRecipes.DeleteDir(first);
            TestRecipes.DeleteDir(second);
            TestRecipes.DeleteDir(profiles);
        }
    }

    [Fact]
    public void ProxyPickTrainsTheTopCandidatesAndTakesTheMostAccurate()
    {
        string dir = TestRecipes.TempDir(), profiles = TestRecipes.TempDir();
        try
        {
            var design = Design("proxy", 1000, PickKind.Proxy, profiles) with { Proxy = new ProxySpec { TopK = 2, Steps = 3, EvalLimit = 64 } };
            var summary = Execute(Recipe([new TrainTeacherStageSpec(), design, new DesignCheckStageSpec()]), dir);
            var stage = summary.Stages.OfType<DesignResult>().Single(s => s.Name == "proxy");
            var scores = stage.ProxyAccuracy!;
            Assert.Equal(2, scores.Count);
            Assert.All(scores.Values, a => Assert.InRange(a, 0, 1));
            string pick = stage.Pick.Label;
            Assert.Equal(scores.Values.Max(), scores[pick]);
            Assert.Equal("Proxy", stage.PickRule);
        }
        finally
        {
            TestRecipes.DeleteDir(dir);
            TestRecipes.DeleteDir(profiles);
        }
    }

    [Fact]
    public void AResumedRunTrainsTheDesignedStudent()
    {
        string dir = TestRecipes.TempDir(), profiles = TestRecipes.TempDir();
        try
        {
            StageSpec teacher = new TrainTeacherStageSpec(), design = Design("hakd", 1000, profile: profiles);
            Execute(Recipe([teacher, design]), dir);
            var summary = Execute(Recipe([teacher, design, new BaselineStageSpec()]), dir, resume: true);
            Assert.Equal(["train_teacher", "hakd", "baseline"], summary.Stages.Select(s => s.Name));
            var trained = (CnnConfig)ModelCheckpoint.Load(Path.Combine(dir, "models", "baseline"), ModelRegistry.Default).Config;
            Assert.Equal([8], trained.Channels);
        }
        finally
        {
            TestRecipes.DeleteDir(dir);
            TestRecipes.DeleteDir(profiles);
        }
    }

    [Fact]
    public void CandidatesStartFromTheTeacherByTheInitFromTeacherRulesWhereALayerFits()
    {
        using var teacher = ParamInit.Build(1, () => new CnnModel(new CnnConfig { Channels = [4, 8, 8], HiddenSize = 16 }));
        using var student = ParamInit.Build(2, () => new CnnModel(new CnnConfig { Channels = [4, 8], HiddenSize = 16 }));
        using (torch.no_grad())
            foreach (var (name, p) in teacher.named_parameters())
                if (name.Contains(".norm.")) p.uniform_(0.5, 1.5); // BatchNorm starts at ones everywhere: make layers tell apart
        var t = teacher.state_dict();
        var s = student.state_dict();
        var freshFc = s["fc.weight"].clone();

        var report = TeacherInit.ApplyWhereFits(student, teacher);
        // 2 of 3 blocks spread uniformly: student 0 <- teacher ceil(1*3/2)-1 = 1, student 1 <- teacher 2 (the last).
        Assert.Equal([1, 2], report.Layers);
        static bool Equal(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && torch.equal(a, b).all().item<bool>();
        // Student blocks.0 (1->4 channels) <- teacher blocks.1 (4->8), truncated to its first 4 filters and first input channel.
        Assert.True(Equal(s["blocks.0.conv.weight"], t["blocks.1.conv.weight"].narrow(0, 0, 4).narrow(1, 0, 1)));
        Assert.True(Equal(s["blocks.0.norm.weight"], t["blocks.1.norm.weight"].narrow(0, 0, 4)));
        Assert.True(Equal(s["blocks.0.norm.running_var"], t["blocks.1.norm.running_var"].narrow(0, 0, 4)));
        // Student blocks.1 (4->8) <- teacher blocks.2 (8->8): the first 4 input channels; its norm is an exact copy.
        Assert.True(Equal(s["blocks.1.conv.weight"], t["blocks.2.conv.weight"].narrow(1, 0, 4)));
        Assert.True(Equal(s["blocks.1.norm.weight"], t["blocks.2.norm.weight"]));
        // fc: 8*7*7 inputs in the student vs 8*3*3 in the teacher (wider): the whole module stays fresh, bias included.
        Assert.Equal(["fc.bias", "fc.weight"], report.Fresh.Order());
        Assert.True(Equal(s["fc.weight"], freshFc));
        Assert.False(Equal(s["fc.bias"], t["fc.bias"]));
        Assert.True(Equal(s["classifier.weight"], t["classifier.weight"]));
        Assert.Equal(s.Count, report.FromTeacher + report.Fresh.Count);
        Assert.Contains("blocks.0.conv.weight", report.Truncated);
        Assert.Contains("classifier.weight", report.Copied);
        // The copies landed in the student's own parameters, not in a detached state-dict copy.
        var classifier = student.named_parameters().Single(p => p.name == "classifier.weight").parameter;
        Assert.True(torch.equal(classifier, t["classifier.weight"]).all().item<bool>());
    }

    [Fact]
    public void ModelsOfAnotherFamilyShareNothing()
    {
        using var teacher = ParamInit.Build(1, () => new CnnModel(new CnnConfig { Channels = [4, 8], HiddenSize = 16 }));
        using var student = ParamInit.Build(2, () => new Distill.Models.Mlp.MlpModel(new Distill.Models.Mlp.MlpConfig { HiddenSizes = [16] }));
        var report = TeacherInit.ApplyWhereFits(student, teacher);
        Assert.Equal(0, report.FromTeacher);
        Assert.Equal(student.state_dict().Count, report.Fresh.Count);
    }

    [Fact]
    public void MetaDeviceParameterCountsMatchRealModels()
    {
        foreach (var config in new[] { new CnnConfig { Channels = [4, 8, 16], HiddenSize = 32 }, new CnnConfig { Channels = [32], HiddenSize = 8 } })
        {
            using var real = new CnnModel(config);
            var (parameters, capacity) = new CnnDesign().CountParameters(config);
            Assert.Equal(real.ParameterCount(), parameters);
            Assert.Equal(parameters, capacity);
            Assert.Equal(real.ParameterCount(), DesignTestSpaces.CnnParams(config).Item1);
        }
        var bert = new Distill.Models.Bert.BertConfig { HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 64, VocabSize = 100, MaxPositionEmbeddings = 40 };
        using var realBert = new Distill.Models.Bert.BertForSequenceClassification(bert);
        var (bp, bc) = new BertDesign().CountParameters(bert);
        Assert.Equal(realBert.ParameterCount(), bp);
        Assert.Equal(bp - (100 + 40 + 2) * 32, bc); // capacity leaves out the word, position and token-type tables
    }
}
