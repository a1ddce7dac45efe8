using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Init;
using Distill.Models.Vit;
using Distill.Tests.Checkpoints;
using TorchSharp;
using Xunit;
using YamlDotNet.RepresentationModel;
using static TorchSharp.torch;

namespace Distill.Tests.Hf;

/// <summary>Student initialisation from the teacher: layer selection, exact layer copies, and truncation init of narrower students.</summary>
public sealed class StudentInitTests
{
    private static readonly BertConfig BertTeacher = new()
    {
        VocabSize = 50, HiddenSize = 32, NumHiddenLayers = 6, NumAttentionHeads = 4, IntermediateSize = 37,
        MaxPositionEmbeddings = 16, NumLabels = 3,
    };

    private static readonly ViTConfig VitTeacher = new()
    {
        ImageSize = 8, PatchSize = 4, HiddenSize = 32, NumHiddenLayers = 6, NumAttentionHeads = 4, IntermediateSize = 37, NumLabels = 10,
    };

    private static DistillModel Build(IModelConfig config, long seed) => ParamInit.Build<DistillModel>(seed, () => config switch
    {
        BertConfig b => new BertForSequenceClassification(b),
        ViTConfig v => new ViTForImageClassification(v),
        _ => throw new ArgumentException(config.GetType().Name),
    });

    /// <summary>Builds teacher and derived student, applies the init, returns both state dicts.</summary>
    private static (DistillModel Teacher, DistillModel Student, StudentInitReport Report) Init(IModelConfig teacherConfig, InitFromTeacherSpec spec)
    {
        var rules = StudentInitRegistry.Default.Get(teacherConfig is BertConfig ? "bert" : "vit");
        var teacher = Build(teacherConfig, 1);
        var student = Build(rules.DeriveConfig(teacherConfig, spec), 2);
        var report = TeacherInit.Apply(student, teacher, spec.Layers.Resolve(rules.ShapeOf(teacherConfig).Layers), rules);
        return (teacher, student, report);
    }

    private static string WithLayer(string key, string layerPrefix, int layer)
    {
        int start = key.IndexOf(layerPrefix, StringComparison.Ordinal) + layerPrefix.Length;
        int end = key.IndexOf('.', start);
        return key[..start] + layer + key[end..];
    }

    [Theory]
    [InlineData("all", 6, new[] { 0, 1, 2, 3, 4, 5 })]
    [InlineData("every_2", 6, new[] { 0, 2, 4 })]
    [InlineData("every:3", 7, new[] { 0, 3, 6 })]
    [InlineData("every_2", 5, new[] { 0, 2, 4 })]
    [InlineData("skip:2", 6, new[] { 1, 3, 5 })]
    [InlineData("skip_3", 7, new[] { 2, 5 })]
    [InlineData("[5, 0, 3]", 6, new[] { 5, 0, 3 })]
    public void LayerSelectionsResolve(string yaml, int teacherLayers, int[] expected)
    {
        var node = new YamlStream();
        node.Load(new StringReader("x: " + yaml));
        var value = ((YamlMappingNode)node.Documents[0].RootNode).Children[new YamlScalarNode("x")];
        var selection = LayerSelection.FromYaml(value, out var error);
        Assert.Null(error);
        Assert.Equal(expected, selection!.Resolve(teacherLayers));
    }

    [Theory]
    [InlineData("every_0", "positive integer")]
    [InlineData("skip:x", "positive integer")]
    [InlineData("every", "not a layer selection")]
    [InlineData("half", "not a layer selection")]
    [InlineData("[]", "empty")]
    [InlineData("[0, -1]", "item 1")]
    [InlineData("{a: 1}", "mapping")]
    public void BadLayerSelectionsAreExplained(string yaml, string fragment)
    {
        var node = new YamlStream();
        node.Load(new StringReader("x: " + yaml));
        var value = ((YamlMappingNode)node.Documents[0].RootNode).Children[new YamlScalarNode("x")];
        Assert.Null(LayerSelection.FromYaml(value, out var error));
        Assert.Contains(fragment, error);
    }

    [Fact]
    public void OutOfRangeAndRepeatedLayersAreProblems()
    {
        Assert.Contains("out of range", LayerSelection.List([0, 6]).Problem(6));
        Assert.Contains("listed twice", LayerSelection.List([1, 1]).Problem(6));
        Assert.Contains("selects no layer", LayerSelection.Skip(7).Problem(6));
        Assert.Null(LayerSelection.Every(10).Problem(6)); // every_10 of 6 layers = [0]
        Assert.Throws<ArgumentException>(() => LayerSelection.List([6]).Resolve(6));
    }

    [Fact]
    public void EveryKStudentLayerIIsTeacherLayerKTimesI()
    {
        var (teacher, student, report) = Init(BertTeacher, new InitFromTeacherSpec { Layers = LayerSelection.Every(2) });
        using var _t = teacher;
        using var _s = student;
        Assert.Equal(3, student.NumHiddenLayers);
        Assert.Equal([0, 2, 4], report.Layers);
        Assert.Empty(report.Truncated);
        var t = teacher.state_dict();
        int layerKeys = 0;
        foreach (var (key, value) in student.state_dict())
        {
            string source = key;
            var m = System.Text.RegularExpressions.Regex.Match(key, @"^bert\.encoder\.layer\.(\d+)\.");
            if (m.Success)
            {
                source = WithLayer(key, "bert.encoder.layer.", 2 * int.Parse(m.Groups[1].Value));
                layerKeys++;
            }
            Assert.True(SafeTensorsTests.BitEqual(t[source], value), $"{key} != teacher {source}");
        }
        Assert.Equal(3 * 16, layerKeys); // 16 tensors per BERT layer
        // A fresh student (no init) differs: the copies are not an accident of seeding.
        using var fresh = Build(student.Config, 2);
        Assert.False(SafeTensorsTests.BitEqual(fresh.state_dict()["bert.encoder.layer.1.attention.self.query.weight"],
            student.state_dict()["bert.encoder.layer.1.attention.self.query.weight"]));
    }

    [Fact]
    public void ChosenLayersAreCopiedInTheGivenOrder()
    {
        var (teacher, student, report) = Init(VitTeacher, new InitFromTeacherSpec { Layers = LayerSelection.List([5, 0, 3]) });
        using var _t = teacher;
        using var _s = student;
        Assert.Equal(3, student.NumHiddenLayers);
        var t = teacher.state_dict();
        int[] map = [5, 0, 3];
        foreach (var (key, value) in student.state_dict())
        {
            var m = System.Text.RegularExpressions.Regex.Match(key, @"^vit\.encoder\.layer\.(\d+)\.");
            string source = m.Success ? WithLayer(key, "vit.encoder.layer.", map[int.Parse(m.Groups[1].Value)]) : key;
            Assert.True(SafeTensorsTests.BitEqual(t[source], value), $"{key} != teacher {source}");
        }
        Assert.Equal(student.state_dict().Count, report.Copied.Count);
    }

    [Fact]
    public void AllLayersAtFullSizeGiveTheTeachersFunction()
    {
        var (teacher, student, _) = Init(BertTeacher, new InitFromTeacherSpec());
        using var _t = teacher;
        using var _s = student;
        teacher.eval();
        student.eval();
        using var scope = NewDisposeScope();
        var ids = randint(0, 50, [2, 7], dtype: ScalarType.Int64);
        var batch = new Batch(new Dictionary<string, Tensor> { ["input_ids"] = ids }, null);
        Assert.True(SafeTensorsTests.BitEqual(teacher.call(batch).Logits, student.call(batch).Logits));
    }

    [Fact]
    public void NarrowerBertUsesTruncationInit()
    {
        var spec = new InitFromTeacherSpec { Layers = LayerSelection.Skip(3), HiddenSize = 12, NumAttentionHeads = 2, IntermediateSize = 20 };
        var (teacher, student, report) = Init(BertTeacher, spec);
        using var _t = teacher;
        using var _s = student;
        var t = teacher.state_dict();
        var s = student.state_dict();
        Assert.Equal([2, 5], report.Layers);
        // Residual features: the first 12. Heads: student head j (dim 6) = teacher head j (dim 8), first 6 features.
        long[] first12 = Enumerable.Range(0, 12).Select(i => (long)i).ToArray();
        long[] heads = [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13];
        long[] first20 = Enumerable.Range(0, 20).Select(i => (long)i).ToArray();
        Tensor Rows(Tensor x, long[] r) => x.index_select(0, tensor(r));
        Tensor Cols(Tensor x, long[] c) => x.index_select(1, tensor(c));
        void Expect(string studentKey, Tensor expected)
        {
            Assert.Equal(expected.shape, s[studentKey].shape);
            Assert.True(SafeTensorsTests.BitEqual(expected.contiguous(), s[studentKey].contiguous()), studentKey);
        }
        using var scope = NewDisposeScope();
        Expect("bert.embeddings.word_embeddings.weight", Cols(t["bert.embeddings.word_embeddings.weight"], first12));
        Expect("bert.embeddings.position_embeddings.weight", Cols(t["bert.embeddings.position_embeddings.weight"], first12));
        Expect("bert.embeddings.LayerNorm.weight", Rows(t["bert.embeddings.LayerNorm.weight"], first12));
        string L0 = "bert.encoder.layer.0.", T2 = "bert.encoder.layer.2.", L1 = "bert.encoder.layer.1.", T5 = "bert.encoder.layer.5.";
        Expect(L0 + "attention.self.query.weight", Cols(Rows(t[T2 + "attention.self.query.weight"], heads), first12));
        Expect(L0 + "attention.self.value.bias", Rows(t[T2 + "attention.self.value.bias"], heads));
        Expect(L1 + "attention.self.key.weight", Cols(Rows(t[T5 + "attention.self.key.weight"], heads), first12));
        Expect(L0 + "attention.output.dense.weight", Cols(Rows(t[T2 + "attention.output.dense.weight"], first12), heads));
        Expect(L0 + "attention.output.dense.bias", Rows(t[T2 + "attention.output.dense.bias"], first12));
        Expect(L1 + "intermediate.dense.weight", Cols(Rows(t[T5 + "intermediate.dense.weight"], first20), first12));
        Expect(L1 + "output.dense.weight", Cols(Rows(t[T5 + "output.dense.weight"], first12), first20));
        Expect(L1 + "output.LayerNorm.bias", Rows(t[T5 + "output.LayerNorm.bias"], first12));
        Expect("bert.pooler.dense.weight", Cols(Rows(t["bert.pooler.dense.weight"], first12), first12));
        Expect("classifier.weight", Cols(t["classifier.weight"], first12));
        Expect("classifier.bias", t["classifier.bias"]);
        Assert.Contains("bert.embeddings.token_type_embeddings.weight", report.Truncated);
        Assert.Contains("classifier.bias", report.Copied);

        // The derived student is a valid model of the new sizes.
        var cfg = (BertConfig)student.Config;
        Assert.Equal((2, 12, 2, 20, 3), (cfg.NumHiddenLayers, cfg.HiddenSize, cfg.NumAttentionHeads, cfg.IntermediateSize, cfg.ResolvedNumLabels));
        student.eval();
        var logits = student.call(new Batch(new Dictionary<string, Tensor> { ["input_ids"] = ones(2, 5, ScalarType.Int64) }, null)).Logits;
        Assert.Equal(new long[] { 2, 3 }, logits.shape);
    }

    [Fact]
    public void NarrowerVitTruncatesPatchEmbeddingAndTokens()
    {
        var (teacher, student, _) = Init(VitTeacher, new InitFromTeacherSpec { Layers = LayerSelection.Every(3), HiddenSize = 16 });
        using var _t = teacher;
        using var _s = student;
        var t = teacher.state_dict();
        var s = student.state_dict();
        using var scope = NewDisposeScope();
        Assert.Equal(new long[] { 16, 3, 4, 4 }, s["vit.embeddings.patch_embeddings.projection.weight"].shape);
        Assert.True(SafeTensorsTests.BitEqual(t["vit.embeddings.patch_embeddings.projection.weight"][..16].contiguous(),
            s["vit.embeddings.patch_embeddings.projection.weight"]));
        Assert.True(SafeTensorsTests.BitEqual(t["vit.embeddings.cls_token"][.., .., ..16].contiguous(), s["vit.embeddings.cls_token"]));
        Assert.True(SafeTensorsTests.BitEqual(t["vit.embeddings.position_embeddings"][.., .., ..16].contiguous(), s["vit.embeddings.position_embeddings"]));
        // 4 heads kept, head dim 8 -> 4: rows j*8 + c, c < 4.
        long[] heads = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
        var q = t["vit.encoder.layer.3.attention.attention.query.weight"].index_select(0, tensor(heads))[.., ..16].contiguous();
        Assert.True(SafeTensorsTests.BitEqual(q, s["vit.encoder.layer.1.attention.attention.query.weight"]));
        Assert.True(SafeTensorsTests.BitEqual(t["vit.layernorm.weight"][..16].contiguous(), s["vit.layernorm.weight"]));
        Assert.True(SafeTensorsTests.BitEqual(t["classifier.weight"][.., ..16].contiguous(), s["classifier.weight"]));
    }

    [Fact]
    public void SpecsThatDoNotFitTheTeacherAreRejected()
    {
        var rules = StudentInitRegistry.Default.Get("bert");
        List<(string Key, string Message)> Problems(InitFromTeacherSpec spec) => rules.Validate(BertTeacher, spec).ToList();
        Assert.Contains(Problems(new() { HiddenSize = 64 }), p => p.Key == "hidden_size" && p.Message.Contains("wider than the teacher's 32"));
        Assert.Contains(Problems(new() { HiddenSize = 30 }), p => p.Key == "hidden_size" && p.Message.Contains("not divisible by num_attention_heads 4"));
        Assert.Contains(Problems(new() { NumAttentionHeads = 3 }), p => p.Key == "num_attention_heads" && p.Message.Contains("not divisible"));
        Assert.Contains(Problems(new() { NumAttentionHeads = 2 }), p => p.Key == "num_attention_heads" && p.Message.Contains("head dim of 16"));
        Assert.Contains(Problems(new() { NumAttentionHeads = 8 }), p => p.Key == "num_attention_heads" && p.Message.Contains("more than the teacher's 4"));
        Assert.Contains(Problems(new() { IntermediateSize = 40 }), p => p.Key == "intermediate_size");
        Assert.Contains(Problems(new() { Layers = LayerSelection.List([0, 9]) }), p => p.Key == "layers" && p.Message.Contains("9"));
        Assert.Empty(Problems(new() { Layers = LayerSelection.Every(2), HiddenSize = 16, NumAttentionHeads = 2 }));
        Assert.Throws<ArgumentException>(() => rules.DeriveConfig(BertTeacher, new() { HiddenSize = 64 }));
        Assert.Throws<ArgumentException>(() => StudentInitRegistry.Default.Get("cnn"));
    }

    [Fact]
    public void MismatchedStudentIsRefusedBeforeCopying()
    {
        var rules = StudentInitRegistry.Default.Get("bert");
        using var teacher = Build(BertTeacher, 1);
        using var student = Build(BertTeacher with { NumHiddenLayers = 2 }, 2);
        var before = student.state_dict()["bert.embeddings.word_embeddings.weight"].clone();
        Assert.Throws<ArgumentException>(() => TeacherInit.Apply(student, teacher, [0, 1, 2], rules));
        Assert.True(SafeTensorsTests.BitEqual(before, student.state_dict()["bert.embeddings.word_embeddings.weight"]));
    }
}
