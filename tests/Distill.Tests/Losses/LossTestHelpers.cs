using Distill.Losses;
using Distill.Models;
using Distill.Models.Mlp;
using TorchSharp;
using Xunit;
using YamlDotNet.RepresentationModel;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

/// <summary>A stand-in model for loss factories: only its layer and label counts are read.</summary>
internal sealed class FakeModel(int layers, int labels = 2, string family = "fake") : DistillModel("fake")
{
    public override string Family => family;
    public override int NumHiddenLayers => layers;
    public override int NumLabels => labels;
    public override IModelConfig Config => new MlpConfig();
    public override ModelOutput forward(Batch batch) => throw new NotSupportedException("FakeModel is never run.");
}

internal static class LossTestHelpers
{
    public static LossBuildContext Context(
        int studentLayers = 2, int teacherLayers = 4,
        Dictionary<string, long[]>? studentModules = null, Dictionary<string, long[]>? teacherModules = null,
        List<long[]>? studentHidden = null, List<long[]>? teacherHidden = null,
        List<long[]>? studentAttention = null, List<long[]>? teacherAttention = null,
        int studentLabels = 2, int teacherLabels = 2) =>
        new(new FakeModel(studentLayers, studentLabels), new FakeModel(teacherLayers, teacherLabels),
            studentModules ?? [], teacherModules ?? [],
            studentHidden ?? [], teacherHidden ?? [],
            studentAttention ?? [], teacherAttention ?? []);

    /// <summary>The same shape repeated for layers 0..layers (hidden states) or 1..layers (attention).</summary>
    public static List<long[]> Repeat(long[] shape, int count) => Enumerable.Range(0, count).Select(_ => shape).ToList();

    public static YamlNode Yaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader("value: " + text));
        return ((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode("value")];
    }

    /// <summary>Deterministic pseudo-random doubles in [-1, 1) (a fixed LCG, independent of torch's generator).</summary>
    public static double[] Values(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
    }

    public static Tensor T(double[] values, long[] shape, ScalarType dtype = ScalarType.Float64) =>
        torch.tensor(values, shape).to_type(dtype);

    public static double[] D(Tensor t) => t.to_type(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();

    public static double Scalar(Tensor t) => t.to_type(ScalarType.Float64).cpu().item<double>();

    public static void Close(double expected, double actual, double rtol, double atol, string what = "")
    {
        Assert.True(Math.Abs(expected - actual) <= atol + rtol * Math.Abs(expected),
            $"{what}: expected {expected:R}, got {actual:R} (diff {Math.Abs(expected - actual):E3})");
    }

    public static LossConfigException ConfigError(Func<object> build) => Assert.Throws<LossConfigException>(build);
}
