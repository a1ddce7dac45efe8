using Distill.Models.Bert;
using Distill.Models.Hf;
using Distill.Models.Vit;
using Distill.Models.Wav2Vec2;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Hf;

/// <summary>The shared hidden_act implementations against their closed-form definitions, and the three HF families
/// accepting and refusing the same names under their own keys.</summary>
public class HfActivationTests
{
    private static readonly double[] Xs = [-3.0, -1.0, -0.5, 0.0, 0.3, 1.0, 2.0, 4.0];

    private static double Phi(double x) => x switch // Φ(x) for the inputs above (values of the standard normal CDF)
    {
        -3.0 => 0.0013498980316300946, -1.0 => 0.15865525393145707, -0.5 => 0.3085375387259869, 0.0 => 0.5,
        0.3 => 0.6179114221889527, 1.0 => 0.8413447460685429, 2.0 => 0.9772498680518208, 4.0 => 0.9999683287581669,
        _ => throw new ArgumentOutOfRangeException(nameof(x)),
    };

    private static double TanhGelu(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    [Theory]
    [InlineData("gelu")]
    [InlineData("gelu_new")]
    [InlineData("gelu_pytorch_tanh")]
    [InlineData("relu")]
    [InlineData("silu")]
    [InlineData("swish")]
    public void ActivationsMatchTheirDefinitions(string name)
    {
        using var scope = torch.NewDisposeScope();
        Func<double, double> expected = name switch
        {
            "gelu" => x => x * Phi(x),
            "gelu_new" or "gelu_pytorch_tanh" => TanhGelu,
            "relu" => x => Math.Max(x, 0),
            _ => x => x / (1 + Math.Exp(-x)),
        };
        var y = HfActivation.Get(name, "bert", "hidden_act")(torch.tensor(Xs, ScalarType.Float64)).data<double>().ToArray();
        for (int i = 0; i < Xs.Length; i++) Assert.True(Math.Abs(y[i] - expected(Xs[i])) < 1e-9, $"{name}({Xs[i]}) = {y[i]}, expected {expected(Xs[i])}");
        // The exact and tanh GELUs really differ (by ~1.5e-4 at x = 1), so the test tells them apart.
        Assert.True(Math.Abs(TanhGelu(1.0) - Phi(1.0)) > 1e-4);
    }

    private static IEnumerable<(string Key, string Message)> Problems(string family, string act) => family switch
    {
        "bert" => new BertConfig { HiddenAct = act }.Validate(),
        "vit" => new ViTConfig { HiddenAct = act }.Validate(),
        _ => new Wav2Vec2Config { HiddenAct = act, FeatExtractActivation = act }.Validate(),
    };

    [Theory]
    [InlineData("bert")]
    [InlineData("vit")]
    [InlineData("wav2vec2")]
    public void EveryFamilyAcceptsTheSameNamesAndRefusesOthersUnderItsKeys(string family)
    {
        foreach (var name in HfActivation.Names)
            Assert.DoesNotContain(Problems(family, name), p => p.Key is "hidden_act" or "feat_extract_activation");
        var refused = Problems(family, "tanh").Where(p => p.Key is "hidden_act" or "feat_extract_activation").ToList();
        Assert.Equal(family == "wav2vec2" ? ["feat_extract_activation", "hidden_act"] : ["hidden_act"], refused.Select(p => p.Key).Order());
        Assert.All(refused, p => Assert.Equal("'tanh' is not supported; use one of gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish", p.Message));
    }

    [Fact]
    public void UnknownNameErrorNamesFamilyAndField()
    {
        var e = Assert.Throws<ArgumentException>(() => HfActivation.Get("mish", "wav2vec2", "feat_extract_activation"));
        Assert.Equal("wav2vec2 config: feat_extract_activation 'mish' is not supported; use one of gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish.", e.Message);
    }
}
