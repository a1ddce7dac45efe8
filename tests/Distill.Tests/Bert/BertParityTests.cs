using Distill.Checkpoints;
using Distill.Models.Bert;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static Distill.Tests.Bert.BertTestHelpers;
using static TorchSharp.torch;

namespace Distill.Tests.Bert;

/// <summary>
/// Numerical parity with HuggingFace transformers 4.40.2 (eval mode, float32) on the tiny random checkpoints of
/// SOURCES.md §6a. Activations: atol 1e-5. Gradients: |diff| ≤ 1e-6 + 1e-4·|expected| (rtol 1e-4 as suggested, with a
/// 1e-6 floor for entries that are near zero).
/// </summary>
public class BertParityTests(ITestOutputHelper log)
{
    private const double ActAtol = 1e-5;
    private const double GradRtol = 1e-4;
    private const double GradAtol = 1e-6;

    [Fact]
    public void BertModelMatchesHfOutputsHiddenStatesAndAttentions()
    {
        using var scope = torch.NewDisposeScope();
        var config = BertConfig.Load(Folder(BaseFolder));
        var model = new BertModel(config);
        LoadStrict(model, SafeTensors.Load(Path.Combine(Folder(BaseFolder), "model.safetensors")));
        model.eval();
        model.OutputAttentions = true;
        var reference = Reference(BaseFolder);
        using var noGrad = torch.no_grad();

        var output = model.call(MakeBatch(reference));
        Assert.Equal(3, output.HiddenStates.Count);
        Assert.Equal(2, output.Attentions.Count);
        var named = output.NamedTensors().ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(["attentions.0", "attentions.1", "hidden_states.0", "hidden_states.1", "hidden_states.2", "last_hidden_state", "pooler_output"],
            named.Keys.Order());
        foreach (var (name, actual) in named) AssertClose(log, name, reference[name], actual, ActAtol);

        // Sentence pair, token_type_ids 0/1, length 32.
        var pair = model.call(MakeBatch(reference, "pair."));
        AssertClose(log, "pair.last_hidden_state", reference["pair.last_hidden_state"], pair.LastHiddenState, ActAtol);
        AssertClose(log, "pair.pooler_output", reference["pair.pooler_output"], pair.PoolerOutput!, ActAtol);
        Assert.Contains(1L, reference["pair.token_type_ids"].data<long>().ToArray()); // the pair case really uses segment 1
    }

    [Fact]
    public void WithoutAttentionMaskOrTokenTypesDefaultsMatchExplicitOnesAndZeros()
    {
        using var scope = torch.NewDisposeScope();
        var model = new BertModel(BertConfig.Load(Folder(BaseFolder)));
        LoadStrict(model, SafeTensors.Load(Path.Combine(Folder(BaseFolder), "model.safetensors")));
        model.eval();
        var reference = Reference(BaseFolder);
        using var noGrad = torch.no_grad();
        // The third sentence has real length 25 = the padded length: its row has no padding, so defaults must reproduce it.
        var ids = reference["input_ids"][2..3];
        Assert.True(reference["attention_mask"][2].all().item<bool>());
        var output = model.call(new Models.Batch(new Dictionary<string, Tensor> { ["input_ids"] = ids }, null));
        AssertClose(log, "defaults.last_hidden_state", reference["last_hidden_state"][2..3], output.LastHiddenState, ActAtol);
    }

    [Fact]
    public void ClassifierMatchesHfLogitsLossHiddenStatesAndGradients()
    {
        using var scope = torch.NewDisposeScope();
        var config = BertConfig.Load(Folder(ClassifierFolder));
        var model = new BertForSequenceClassification(config);
        LoadStrict(model, SafeTensors.Load(Path.Combine(Folder(ClassifierFolder), "model.safetensors")));
        model.eval();
        var reference = Reference(ClassifierFolder);

        var output = (BertSequenceClassifierOutput)model.call(MakeBatch(reference, labels: true));
        var named = output.NamedTensors().ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(["hidden_states.0", "hidden_states.1", "hidden_states.2", "logits", "loss"], named.Keys.Order());
        foreach (var (name, actual) in named) AssertClose(log, name, reference[name], actual, ActAtol);

        model.zero_grad();
        output.Loss!.backward();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var gradNames = reference.Keys.Where(k => k.StartsWith("grad.", StringComparison.Ordinal)).ToList();
        Assert.Equal(10, gradNames.Count);
        foreach (var name in gradNames)
        {
            var grad = parameters[name["grad.".Length..]].grad;
            Assert.NotNull(grad);
            AssertClose(log, name, reference[name], grad!, GradAtol, GradRtol);
        }
    }

    [Fact]
    public void ClassifierEncoderWeightsWithPrefixStrippedReproduceTheBaseModel()
    {
        // The two folders hold identical encoder weights (SOURCES.md §6a): strip "bert." and drop the head.
        using var scope = torch.NewDisposeScope();
        var model = new BertModel(BertConfig.Load(Folder(ClassifierFolder)));
        LoadStrict(model, SafeTensors.Load(Path.Combine(Folder(ClassifierFolder), "model.safetensors")), stripPrefix: "bert.", drop: ["classifier."]);
        model.eval();
        var reference = Reference(BaseFolder);
        using var noGrad = torch.no_grad();
        var output = model.call(MakeBatch(reference));
        AssertClose(log, "last_hidden_state", reference["last_hidden_state"], output.LastHiddenState, ActAtol);

        // And the base checkpoint, prefixed with "bert.", fits the classifier's encoder exactly.
        var classifier = new BertForSequenceClassification(BertConfig.Load(Folder(BaseFolder)));
        LoadStrict(classifier.Bert, SafeTensors.Load(Path.Combine(Folder(BaseFolder), "model.safetensors")));
        var names = classifier.state_dict().Keys.Where(k => !k.StartsWith("classifier.", StringComparison.Ordinal)).ToList();
        Assert.All(names, k => Assert.StartsWith("bert.", k));
    }

    [Fact]
    public void StudentLogitsAndKdGradientsMatchReference()
    {
        using var scope = torch.NewDisposeScope();
        var reference = Reference(StudentFolder, "kd_reference");
        var teacher = new BertForSequenceClassification(BertConfig.Load(Folder(ClassifierFolder)));
        LoadStrict(teacher, SafeTensors.Load(Path.Combine(Folder(ClassifierFolder), "model.safetensors")));
        var student = new BertForSequenceClassification(BertConfig.Load(Folder(StudentFolder)));
        LoadStrict(student, SafeTensors.Load(Path.Combine(Folder(StudentFolder), "model.safetensors")));
        teacher.eval();
        student.eval();
        var batch = MakeBatch(reference, labels: true);

        Tensor teacherLogits;
        using (torch.no_grad()) teacherLogits = teacher.call(batch).Logits;
        var studentLogits = student.call(batch).Logits;
        AssertClose(log, "teacher_logits", reference["teacher_logits"], teacherLogits, ActAtol);
        AssertClose(log, "student_logits", reference["student_logits"], studentLogits, ActAtol);

        // The library's soft-target loss (Hinton et al. 2015) with PyTorch's settings for this file: T = 2, alpha = 0.5.
        var parts = Distill.Losses.SoftTargetLoss.Compute(studentLogits, teacherLogits, batch.Labels, temperature: 2.0, alpha: 0.5);
        var (kd, ce, total) = (parts.Kd, parts.Ce!, parts.Total);
        AssertClose(log, "kd_loss", reference["kd_loss"], kd, ActAtol);
        AssertClose(log, "ce_loss", reference["ce_loss"], ce, ActAtol);
        AssertClose(log, "total_loss", reference["total_loss"], total, ActAtol);

        student.zero_grad();
        total.backward();
        var parameters = student.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var gradNames = reference.Keys.Where(k => k.StartsWith("grad.", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, gradNames.Count);
        foreach (var name in gradNames)
            AssertClose(log, name, reference[name], parameters[name["grad.".Length..]].grad!, GradAtol, GradRtol);
        Assert.All(teacher.parameters(), p => Assert.Null(p.grad));
    }
}
