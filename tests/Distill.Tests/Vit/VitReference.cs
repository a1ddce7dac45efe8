using Distill.Checkpoints;
using Distill.Models.Vit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Vit;

/// <summary>Helpers for the HF ViT reference folders in tests/fixtures/hf (tests/fixtures/README.md).</summary>
internal static class VitReference
{
    public const string BaseFolder = "vit-tiny-random-ViTModel";
    public const string ClassifierFolder = "vit-tiny-random-ViTForImageClassification";

    public static string Folder(string name) => TestPaths.Hf(name);

    public static Dictionary<string, Tensor> Outputs(string folder) =>
        SafeTensors.Load(Path.Combine(Folder(folder), "reference", "reference_outputs.safetensors"));

    /// <summary>The folder's weights with <paramref name="renamer"/> applied to every key (null entries are dropped).</summary>
    public static Dictionary<string, Tensor> Weights(string folder, Func<string, string?>? renamer = null)
    {
        var raw = SafeTensors.Load(Path.Combine(Folder(folder), "model.safetensors"));
        if (renamer is null) return raw;
        var result = new Dictionary<string, Tensor>();
        foreach (var (k, v) in raw)
            if (renamer(k) is { } name) result[name] = v;
        return result;
    }

    /// <summary>Loads with strict: true and asserts that no key is missing or unexpected and every shape matches.</summary>
    public static void LoadStrict(nn.Module module, Dictionary<string, Tensor> weights)
    {
        var own = module.state_dict();
        foreach (var (k, v) in weights)
            if (own.TryGetValue(k, out var mine))
                Assert.True(mine.shape.SequenceEqual(v.shape), $"{k}: model [{string.Join(",", mine.shape)}] vs file [{string.Join(",", v.shape)}]");
        var (missing, unexpected) = module.load_state_dict(weights, strict: true);
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        Assert.Equal(own.Count, weights.Count);
        using var _ = torch.no_grad();
        foreach (var (k, v) in weights)
            Assert.True(module.state_dict()[k].equal(v).all().item<bool>(), $"{k} did not load");
    }

    public static ViTModel LoadBase(bool addPoolingLayer = true)
    {
        var model = new ViTModel(ViTConfig.Load(Path.Combine(Folder(BaseFolder), "config.json")), addPoolingLayer);
        LoadStrict(model, Weights(BaseFolder, addPoolingLayer ? null : k => k.StartsWith("pooler.", StringComparison.Ordinal) ? null : k));
        model.eval();
        return model;
    }

    public static ViTForImageClassification LoadClassifier()
    {
        var model = new ViTForImageClassification(ViTConfig.Load(Path.Combine(Folder(ClassifierFolder), "config.json")));
        LoadStrict(model, Weights(ClassifierFolder));
        model.eval();
        return model;
    }

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(b.shape, a.shape);
        return (a.detach().to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64)).abs().max().item<double>();
    }
}
