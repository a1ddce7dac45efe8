using Distill.Models.Design;
using static TorchSharp.torch;

namespace Distill.Models.Cnn;

/// <summary>
/// Design space of the <c>cnn</c> family: <c>layers</c> = number of conv blocks, <c>channels</c> = widths a block may
/// take (block widths never decrease, the usual shape of a small CNN, which also keeps the space small), and
/// <c>hidden_size</c> = width of the fully connected layer. Cost features per batch of B images, block i mapping
/// c_in → c_out channels at side s_i (s_0 = image size, halved by each block's pooling):
/// conv MACs Σ B·s_i²·c_in·c_out·9, activation elements Σ B·s_i²·c_out (BatchNorm, ReLU and pooling each touch them),
/// fully connected MACs B·(c_last·s_L²·hidden + hidden·labels), plus a constant and a per-block overhead.
/// </summary>
public sealed class CnnDesign : DesignFamily
{
    public override string Family => "cnn";

    public override IReadOnlyList<string> SearchKeys { get; } = ["layers", "channels", "hidden_size"];

    public override IReadOnlyList<string> FeatureNames { get; } = ["overhead", "blocks", "conv_macs", "activation_elements", "fc_macs"];

    private static CnnConfig Base(IModelConfig config) => config as CnnConfig
        ?? throw new ArgumentException($"The cnn design space needs a CnnConfig, got {config.GetType().Name}.");

    protected override IEnumerable<(string Key, string Message)> ValidateValues(SearchSpaceSpec space, IModelConfig baseConfig)
    {
        var b = Base(baseConfig);
        var layers = Or(space.Layers, b.Channels.Count);
        foreach (int l in layers)
            if ((b.ImageSize >> Math.Min(l, 30)) < 1)
                yield return ("search.layers", $"{l} blocks halve the {b.ImageSize} px image below one pixel; the most this image allows is {(int)Math.Floor(Math.Log2(b.ImageSize))}");
        if (space.Channels is null && layers.Any(l => l != b.Channels.Count))
            yield return ("search.channels", $"is needed when search.layers differs from the student's {b.Channels.Count} blocks (the widths the extra blocks may take)");
    }

    public override IEnumerable<IModelConfig> Enumerate(SearchSpaceSpec space, IModelConfig baseConfig)
    {
        var b = Base(baseConfig);
        var hidden = Or(space.HiddenSize, b.HiddenSize);
        foreach (int l in Or(space.Layers, b.Channels.Count))
        {
            if ((b.ImageSize >> Math.Min(l, 30)) < 1) continue;
            var sequences = space.Channels is { } ch ? NonDecreasing(ch.Values, l) : [b.Channels];
            foreach (var seq in sequences)
                foreach (int h in hidden)
                    yield return b with { Channels = [.. seq], HiddenSize = h };
        }
    }

    /// <summary>All non-decreasing sequences of <paramref name="length"/> drawn from the ascending <paramref name="values"/>.</summary>
    private static IEnumerable<IReadOnlyList<int>> NonDecreasing(IReadOnlyList<int> values, int length)
    {
        var idx = new int[length];
        while (true)
        {
            yield return idx.Select(i => values[i]).ToArray();
            int k = length - 1;
            while (k >= 0 && idx[k] == values.Count - 1) k--;
            if (k < 0) yield break;
            idx[k]++;
            for (int j = k + 1; j < length; j++) idx[j] = idx[k];
        }
    }

    public override IEnumerable<(string Key, string Message)> ValidateDeployment(DeploymentSpec deployment, IModelConfig baseConfig, int dataMaxLength)
    {
        var b = Base(baseConfig);
        if (deployment.ImageSize is { } s && s != b.ImageSize)
            yield return ("deployment.image_size", $"is {s}, but the student is built for {b.ImageSize} px images (student.config.image_size); make them agree");
        if (deployment.SequenceLength is not null) yield return ("deployment.sequence_length", "does not apply to the cnn family (images); remove it");
        if (deployment.AudioLength is not null) yield return ("deployment.audio_length", "does not apply to the cnn family (images); remove it");
    }

    public override DeploymentShape Resolve(DeploymentSpec deployment, IModelConfig baseConfig, int dataMaxLength, int threads, string device) =>
        new(deployment.BatchSize, threads, device) { ImageSize = Base(baseConfig).ImageSize };

    public override double[] Features(IModelConfig config, DeploymentShape shape)
    {
        var c = Base(config);
        double batch = shape.BatchSize, conv = 0, act = 0;
        long side = c.ImageSize, cin = c.InChannels;
        foreach (int cout in c.Channels)
        {
            conv += batch * side * side * cin * cout * 9;
            act += batch * side * side * cout;
            side /= 2;
            cin = cout;
        }
        double fc = batch * ((double)cin * side * side * c.HiddenSize + (double)c.HiddenSize * c.NumLabels);
        return [1, c.Channels.Count, conv, act, fc];
    }

    public override double Macs(IModelConfig config, DeploymentShape shape)
    {
        var f = Features(config, shape);
        return f[2] + f[4];
    }

    public override string Label(IModelConfig config)
    {
        var c = Base(config);
        return $"C[{string.Join(",", c.Channels)}] H{c.HiddenSize}";
    }

    public override IReadOnlyDictionary<string, object> Dims(IModelConfig config)
    {
        var c = Base(config);
        return new Dictionary<string, object> { ["layers"] = c.Channels.Count, ["channels"] = c.Channels.ToArray(), ["hidden_size"] = c.HiddenSize };
    }

    public override IReadOnlyList<DesignInput> Inputs(IModelConfig config, DeploymentShape shape)
    {
        var c = Base(config);
        return [new DesignInput("pixel_values", [shape.BatchSize, c.InChannels, c.ImageSize, c.ImageSize], ScalarType.Float32)];
    }
}
