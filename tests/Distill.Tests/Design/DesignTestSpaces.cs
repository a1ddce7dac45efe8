using Distill.Design;
using Distill.Models.Design;
using Distill.Models;
using Distill.Models.Cnn;

namespace Distill.Tests.Design;

/// <summary>The cnn space of recipes/hakd-mnist.yaml with parameter counts from the conv/linear formula (no model is built).</summary>
internal static class DesignTestSpaces
{
    public static readonly SearchSpaceSpec CnnSpace = new()
    {
        Layers = new IntChoices([1, 2, 3]), Channels = new IntChoices([4, 8, 16, 32]), HiddenSize = new IntChoices([16, 32, 64, 128]),
    };

    public static readonly DeploymentShape Shape = new(BatchSize: 32, Threads: 1, Device: "cpu") { ImageSize = 28 };

    /// <summary>conv3x3 without bias + BatchNorm (2 per channel) per block, then fc and classifier with biases.</summary>
    public static (long, long) CnnParams(IModelConfig config)
    {
        var c = (CnnConfig)config;
        long p = 0, cin = c.InChannels, side = c.ImageSize;
        foreach (int cout in c.Channels)
        {
            p += cin * cout * 9 + 2 * cout;
            cin = cout;
            side /= 2;
        }
        p += cin * side * side * c.HiddenSize + c.HiddenSize + (long)c.HiddenSize * c.NumLabels + c.NumLabels;
        return (p, p);
    }

    public static IReadOnlyList<Candidate> Cnn() =>
        DesignSearch.Candidates(new CnnDesign(), CnnSpace, new CnnConfig(), Shape, CnnParams);

    /// <summary>Plausible per-unit costs (ms) of the cnn features: overhead, blocks, conv MACs, activation elements, fc MACs.</summary>
    public static readonly double[] CnnCosts = [0.05, 0.02, 4e-8, 6e-8, 1.5e-8];
}
