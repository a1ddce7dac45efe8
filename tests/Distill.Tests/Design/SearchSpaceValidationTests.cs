using Distill.Design;
using Distill.Models.Design;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using Distill.Recipes;
using Distill.Stages;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Distill.Tests.Design;

public class SearchSpaceValidationTests
{
    private static IntChoices? Parse(string yaml, out string? error)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return IntChoices.FromYaml(stream.Documents[0].RootNode, out error);
    }

    [Theory]
    [InlineData("4", new[] { 4 })]
    [InlineData("[8, 2, 4]", new[] { 2, 4, 8 })]
    [InlineData("{min: 64, max: 256, step: 64}", new[] { 64, 128, 192, 256 })]
    [InlineData("{min: 4, max: 40, factor: 2}", new[] { 4, 8, 16, 32 })]
    public void ChoicesParse(string yaml, int[] expected)
    {
        var choices = Parse(yaml, out var error);
        Assert.Null(error);
        Assert.Equal(expected, choices!.Values);
    }

    [Theory]
    [InlineData("[]", "at least one value")]
    [InlineData("[4, 0]", "item 1: expected a positive integer, got '0'")]
    [InlineData("[4, 4]", "repeats a value")]
    [InlineData("[4, [8]]", "item 1")]
    [InlineData("-3", "positive integer")]
    [InlineData("{min: 8, max: 4, step: 1}", "min 8 is larger than max 4")]
    [InlineData("{min: 4, max: 8}", "exactly one of step")]
    [InlineData("{min: 4, max: 8, step: 1, factor: 2}", "exactly one of step")]
    [InlineData("{min: 4, max: 8, factor: 1}", "factor must be at least 2")]
    [InlineData("{min: 4, max: 8, stride: 2}", "unknown range key 'stride'")]
    [InlineData("{max: 8, step: 2}", "needs both min and max")]
    [InlineData("{min: 1, max: 100000, step: 1}", "more than 4096 values")]
    public void BadChoicesAreRefusedWithTheReason(string yaml, string fragment)
    {
        Assert.Null(Parse(yaml, out var error));
        Assert.Contains(fragment, error);
    }

    [Fact]
    public void CnnSpaceEnumeratesNonDecreasingWidthsOnly()
    {
        var space = new SearchSpaceSpec
        {
            Layers = new IntChoices([1, 2, 3]), Channels = new IntChoices([4, 8, 16, 32]), HiddenSize = new IntChoices([16, 32, 64, 128]),
        };
        var configs = new CnnDesign().Enumerate(space, new CnnConfig()).Cast<CnnConfig>().ToList();
        // Non-decreasing sequences of length L over 4 widths: C(4 + L - 1, L) = 4, 10, 20; times 4 hidden sizes.
        Assert.Equal((4 + 10 + 20) * 4, configs.Count);
        Assert.All(configs, c => Assert.True(c.Channels.Zip(c.Channels.Skip(1)).All(p => p.First <= p.Second), string.Join(",", c.Channels)));
        Assert.Equal(configs.Count, configs.Select(c => string.Join(",", c.Channels) + "/" + c.HiddenSize).Distinct().Count());
        Assert.All(configs, c => Assert.Empty(c.Validate()));
    }

    [Fact]
    public void TransformerSpaceKeepsOnlyDivisibleHeadsWithWideEnoughHeads()
    {
        var space = new SearchSpaceSpec
        {
            Layers = new IntChoices([2]), HiddenSize = new IntChoices([64, 96]), Heads = new IntChoices([2, 4, 8, 12]), MinHeadDim = 16,
        };
        var configs = new BertDesign().Enumerate(space, new BertConfig()).Cast<BertConfig>().ToList();
        // 64: heads 2 (32), 4 (16); 96: heads 2 (48), 4 (24); 8 gives 8 / 12 and 12 gives 8 (< 16); 12 does not divide 64.
        Assert.Equal(new[] { (64, 2), (64, 4), (96, 2), (96, 4) }, configs.Select(c => (c.HiddenSize, c.NumAttentionHeads)));
        Assert.All(configs, c => Assert.Empty(c.Validate()));
    }

    [Fact]
    public void ValuesNoLegalCandidateCanUseAreErrors()
    {
        var bert = new BertDesign();
        var problems = bert.Validate(new SearchSpaceSpec { HiddenSize = new IntChoices([64, 70]), Heads = new IntChoices([4, 3]) }, new BertConfig()).ToList();
        Assert.Contains(problems, p => p.Key == "search.hidden_size" && p.Message.Contains("hidden size 70"));
        Assert.Contains(problems, p => p.Key == "search.heads" && p.Message.Contains("3 heads"));
        Assert.Empty(bert.Validate(new SearchSpaceSpec { HiddenSize = new IntChoices([64, 96]), Heads = new IntChoices([4]) }, new BertConfig()));
    }

    [Fact]
    public void SpaceLargerThanTheLimitIsAnError()
    {
        var space = new SearchSpaceSpec
        {
            Layers = new IntChoices(Enumerable.Range(1, 12)), HiddenSize = new IntChoices([64, 128, 256]), Heads = new IntChoices([2, 4]),
            IntermediateSize = new IntChoices([128, 256, 512, 1024]), MaxCandidates = 100,
        };
        var problem = Assert.Single(new BertDesign().Validate(space, new BertConfig()));
        Assert.Equal("search", problem.Key);
        Assert.Contains("more than 100 candidates", problem.Message);
    }

    // ---- through the recipe loader: errors at the key, with line numbers ----

    private static void AssertError(RecipeLoadResult loaded, string keyPath, string fragment)
    {
        Assert.False(loaded.Succeeded, "expected the recipe to be refused");
        Assert.True(loaded.Errors.Any(e => e.KeyPath == keyPath && e.Message.Contains(fragment) && e.Line > 0),
            $"no error at {keyPath} containing '{fragment}'; got:\n{string.Join("\n", loaded.Errors)}");
    }

    [Fact]
    public void ValidCnnDesignRecipeLoads()
    {
        var loaded = DesignRecipes.Load("cnn", """
              - kind: design
                search: { layers: [1, 2], channels: [4, 8], hidden_size: [16, 32] }
                budget: { latency_ms: 1.5, params: 100000 }
                measure: { statistic: min }
              - kind: baseline
              - kind: design_check
            """);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        var design = Assert.IsType<DesignStageSpec>(loaded.Recipe!.Stages[1]);
        Assert.Equal([1, 2], design.Search.Layers!.Values);
        Assert.Equal(LatencyStatistic.Min, design.Measure.Statistic);
        Assert.Equal(100000, design.Budget.Params);
        Assert.Same(design, Assert.IsType<DesignCheckStageSpec>(loaded.Recipe.Stages[3]).DesignStage(loaded.Recipe));
    }

    [Fact]
    public void KeyOfAnotherFamilyIsReportedAtTheKey()
    {
        var loaded = DesignRecipes.Load("bert", """
              - kind: design
                search: { hidden_size: [32, 64], channels: [4, 8] }
                budget: { latency_ms: 2 }
            """);
        AssertError(loaded, "stages[1].search.channels", "does not apply to the bert family");
    }

    [Fact]
    public void HeadsThatDivideNoHiddenSizeAreReported()
    {
        var loaded = DesignRecipes.Load("bert", """
              - kind: design
                search: { hidden_size: [32, 64], heads: [2, 5] }
                budget: { latency_ms: 2 }
            """);
        AssertError(loaded, "stages[1].search.heads", "5 heads divide none of the hidden sizes [32, 64]");
    }

    [Fact]
    public void TooManyCnnBlocksForTheImageAreReported()
    {
        var loaded = DesignRecipes.Load("cnn", """
              - kind: design
                search: { layers: [2, 6], channels: [4, 8] }
                budget: { latency_ms: 2 }
            """);
        AssertError(loaded, "stages[1].search.layers", "6 blocks halve the 28 px image below one pixel");
    }

    [Fact]
    public void SearchingCnnDepthNeedsWidths()
    {
        var loaded = DesignRecipes.Load("cnn", """
              - kind: design
                search: { layers: [1, 3] }
                budget: { latency_ms: 2 }
            """);
        AssertError(loaded, "stages[1].search.channels", "is needed when search.layers differs");
    }

    [Fact]
    public void Wav2Vec2HiddenSizesMustSplitIntoThePositionalConvGroups()
    {
        var loaded = DesignRecipes.Load("wav2vec2", """
              - kind: design
                search: { hidden_size: [32, 34], heads: [2] }
                deployment: { audio_length: 16000 }
                budget: { latency_ms: 2 }
            """);
        AssertError(loaded, "stages[1].search.hidden_size", "hidden size 34 is not divisible by the 4 groups");
    }

    [Fact]
    public void RuntimeAndOnnxPrecisionBindAndAreChecked()
    {
        var loaded = DesignRecipes.Load("bert", """
              - kind: design
                deployment: { runtime: onnxruntime, onnx_precision: int8 }
                budget: { latency_ms: 2 }
                measure: { statistic: trimmed_mean, block: 6, outlier_pct: 20, max_retries: 4, trim_pct: 10, max_spread_pct: 25, retime_margin_pct: 5 }
            """);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        var design = Assert.IsType<DesignStageSpec>(loaded.Recipe!.Stages[1]);
        Assert.Equal(DeploymentRuntime.Onnxruntime, design.Deployment.Runtime);
        Assert.Equal(OnnxPrecision.Int8, design.Deployment.OnnxPrecision);
        Assert.Equal(LatencyStatistic.TrimmedMean, design.Measure.Statistic);
        Assert.Equal(new TimingSettings { Rounds = 15, OutlierPct = 20, MaxRetries = 4, TrimPct = 10, MaxSpreadPct = 25 }, design.Measure.Timing);
        Assert.Equal(6, design.Measure.Block);
        Assert.Equal(5, design.Measure.RetimeMarginPct);

        AssertError(DesignRecipes.Load("bert", """
              - kind: design
                deployment: { onnx_precision: int8 }
                budget: { latency_ms: 2 }
            """), "stages[1].deployment.onnx_precision", "applies only with deployment.runtime: onnxruntime");
        AssertError(DesignRecipes.Load("bert", """
              - kind: design
                deployment: { runtime: onnxruntime, device: cuda }
                budget: { latency_ms: 2 }
            """), "stages[1].deployment.runtime", "on the CPU");
        var wrong = DesignRecipes.Load("bert", """
              - kind: design
                deployment: { runtime: tensorrt }
                budget: { latency_ms: 2 }
            """);
        Assert.False(wrong.Succeeded);
        Assert.Contains(wrong.Errors, e => e.Message.Contains("torchsharp", StringComparison.Ordinal) && e.Message.Contains("onnxruntime", StringComparison.Ordinal));
    }

    [Fact]
    public void AudioNeedsALengthAndTextAShortEnoughSequence()
    {
        AssertError(DesignRecipes.Load("wav2vec2", """
              - kind: design
                budget: { latency_ms: 2 }
            """), "stages[1].deployment.audio_length", "needs deployment.audio_length");
        AssertError(DesignRecipes.Load("bert", """
              - kind: design
                deployment: { sequence_length: 512 }
                budget: { latency_ms: 2 }
            """), "stages[1].deployment.sequence_length", "exceed the student's max_position_embeddings 128");
        AssertError(DesignRecipes.Load("cnn", """
              - kind: design
                deployment: { image_size: 32 }
                budget: { latency_ms: 2 }
            """), "stages[1].deployment.image_size", "built for 28 px");
    }

    [Fact]
    public void UnsupportedFamilyMissingBudgetAndTooFewTimingsAreReported()
    {
        AssertError(DesignRecipes.Load("mlp", """
              - kind: design
                budget: { latency_ms: 2 }
            """), "stages[1].kind", "cannot search the 'mlp' family");
        var noBudget = DesignRecipes.Load("cnn", """
              - kind: design
                search: { hidden_size: [16, 32] }
            """);
        Assert.Contains(noBudget.Errors, e => e.KeyPath == "stages[1].budget" && e.Message.Contains("missing required key 'budget'"));
        AssertError(DesignRecipes.Load("cnn", """
              - kind: design
                search: { layers: [1, 2, 3], channels: [4, 8, 16] }
                budget: { latency_ms: 2 }
                measure: { max_measured: 3 }
            """), "stages[1].measure.max_measured", "cannot fit the 5 cost features");
        AssertError(DesignRecipes.Load("cnn", """
              - kind: design
                budget: { latency_ms: 0 }
            """), "stages[1].budget.latency_ms", "a number > 0");
    }

    [Fact]
    public void DesignCheckNeedsAnEarlierDesignStage()
    {
        AssertError(DesignRecipes.Load("cnn", """
              - kind: design_check
              - kind: design
                budget: { latency_ms: 2 }
            """), "stages[1].kind", "needs a 'kind: design' stage before it");
        AssertError(DesignRecipes.Load("cnn", """
              - kind: design
                name: d1
                budget: { latency_ms: 2 }
              - kind: design_check
                design: d2
            """), "stages[2].design", "no design stage named 'd2'");
    }
}
