using Distill.Models.Wav2Vec2;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static Distill.Tests.Wav2Vec2.Wav2Vec2TestData;

namespace Distill.Tests.Wav2Vec2;

/// <summary>
/// Forward and backward parity with HuggingFace transformers 4.40.2 on the six tiny wav2vec2 checkpoints
/// (SOURCES.md §6c). Activations: atol 1e-5. Loss: rtol 1e-5. Gradients: rtol 1e-4 plus atol 1e-6·max|ref grad|
/// (so entries many orders below the tensor's scale are not held to a relative bound they cannot meet in float32).
/// </summary>
public class Wav2Vec2ParityTests(ITestOutputHelper log)
{
    private const double Atol = 1e-5;
    private const double GradRtol = 1e-4;

    [Theory]
    [InlineData("groupnorm", false)]
    [InlineData("layernorm", true)]
    public void BaseModelMatchesHf(string variant, bool withMask)
    {
        string folder = Folder(variant, "Wav2Vec2Model");
        var reference = Reference(folder);
        var model = new Wav2Vec2Model(Config(folder));
        LoadStrict(model, Checkpoint(folder));
        model.eval();
        model.OutputAttentions = true;
        using var _ = torch.no_grad();
        var output = model.call(Batch(reference, withMask, withLabels: false));

        var named = output.NamedTensors().ToDictionary(kv => kv.Key, kv => kv.Value);
        string[] expected = ["extract_features", "last_hidden_state", "hidden_states.0", "hidden_states.1", "hidden_states.2", "attentions.0", "attentions.1"];
        Assert.Equal(expected.Order(), named.Keys.Order());
        foreach (var name in expected) AssertClose(log, name, named[name], reference[name], Atol);
        if (withMask)
            Assert.True(output.FeatureAttentionMask!.to_type(ScalarType.Int64).equal(reference["feature_vector_attention_mask"]).all().item<bool>());
        else Assert.Null(output.FeatureAttentionMask);
    }

    [Theory]
    [InlineData("groupnorm", false)]
    [InlineData("layernorm", true)]
    public void CtcMatchesHfWithGradients(string variant, bool withMask)
    {
        string folder = Folder(variant, "Wav2Vec2ForCTC");
        var reference = Reference(folder);
        var model = new Wav2Vec2ForCTC(Config(folder));
        LoadStrict(model, Checkpoint(folder));
        model.eval();
        var output = (Wav2Vec2HeadOutput)model.call(Batch(reference, withMask, withLabels: true));
        AssertClose(log, "logits", output.Logits, reference["logits"], Atol);
        AssertClose(log, "loss", output.Loss!.reshape(1), reference["loss"], 0, 1e-5);
        output.Loss!.backward();
        CheckGradients(model, reference);
    }

    [Theory]
    [InlineData("groupnorm", false)]
    [InlineData("layernorm", true)]
    public void SequenceClassificationMatchesHfWithGradients(string variant, bool withMask)
    {
        string folder = Folder(variant, "Wav2Vec2ForSequenceClassification");
        var reference = Reference(folder);
        var model = new Wav2Vec2ForSequenceClassification(Config(folder));
        LoadStrict(model, Checkpoint(folder));
        model.eval();
        var output = (Wav2Vec2HeadOutput)model.call(Batch(reference, withMask, withLabels: true));
        AssertClose(log, "logits", output.Logits, reference["logits"], Atol);
        AssertClose(log, "loss", output.Loss!.reshape(1), reference["loss"], 0, 1e-5);
        for (int i = 0; i < 3; i++) AssertClose(log, $"hidden_states.{i}", output.HiddenStates[i], reference[$"hidden_states.{i}"], Atol);
        output.Loss!.backward();
        CheckGradients(model, reference);
    }

    private void CheckGradients(nn.Module model, Dictionary<string, Tensor> reference)
    {
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var grads = reference.Keys.Where(k => k.StartsWith("grad.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(grads);
        foreach (var key in grads)
        {
            string name = key["grad.".Length..];
            Assert.True(parameters.ContainsKey(name), $"the model has no parameter '{name}'");
            var grad = parameters[name].grad;
            Assert.NotNull(grad);
            var expected = reference[key];
            double atol = 1e-6 * expected.abs().max().item<float>();
            AssertClose(log, key, grad!, expected, atol, GradRtol);
        }
    }
}
