using Distill.Checkpoints;
using Distill.Models;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Bert;

/// <summary>Reference folders, strict weight loading with an explicit prefix rule, and tolerance checks that log the max difference.</summary>
internal static class BertTestHelpers
{
    public const string BaseFolder = "bert-tiny-random-BertModel";
    public const string ClassifierFolder = "bert-tiny-random-BertForSequenceClassification";
    public const string StudentFolder = "bert-tiny-random-student-BertForSequenceClassification";

    public static string Folder(string name) => TestPaths.Hf(name);

    public static Dictionary<string, Tensor> Reference(string folder, string file = "reference_outputs") =>
        SafeTensors.Load(Path.Combine(Folder(folder), "reference", file + ".safetensors"));

    /// <summary>
    /// Loads a checkpoint into <paramref name="module"/> with strict names: keys starting with <paramref name="stripPrefix"/>
    /// lose it, keys in <paramref name="drop"/> (by prefix) are left out, <paramref name="addPrefix"/> is prepended.
    /// Asserts that no parameter is missing and no key is unexpected.
    /// </summary>
    public static void LoadStrict(nn.Module module, Dictionary<string, Tensor> checkpoint, string stripPrefix = "", string addPrefix = "", string[]? drop = null)
    {
        var renamed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in checkpoint)
        {
            if (drop is not null && drop.Any(d => key.StartsWith(d, StringComparison.Ordinal))) continue;
            string k = stripPrefix.Length > 0 && key.StartsWith(stripPrefix, StringComparison.Ordinal) ? key[stripPrefix.Length..] : key;
            renamed[addPrefix + k] = value;
        }
        var expected = module.state_dict().Keys.ToHashSet();
        Assert.Equal(expected.Order(), renamed.Keys.Order()); // names equal before loading: nothing missing, nothing unexpected
        var (missing, unexpected) = module.load_state_dict(renamed, strict: true);
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        foreach (var (k, v) in module.state_dict()) Assert.True(v.equal(renamed[k]).all().item<bool>(), $"{k} did not load");
    }

    public static Batch MakeBatch(Dictionary<string, Tensor> reference, string prefix = "", bool labels = false) =>
        new(new Dictionary<string, Tensor>
        {
            ["input_ids"] = reference[prefix + "input_ids"],
            ["token_type_ids"] = reference[prefix + "token_type_ids"],
            ["attention_mask"] = reference[prefix + "attention_mask"],
        }, labels ? reference[prefix + "labels"] : null);

    /// <summary>|actual − expected| ≤ atol + rtol·|expected| elementwise, shapes equal; logs and returns the max abs difference.</summary>
    public static double AssertClose(ITestOutputHelper log, string name, Tensor expected, Tensor actual, double atol, double rtol = 0)
    {
        var e = expected.detach().to(ScalarType.Float64);
        var a = actual.detach().to(ScalarType.Float64).reshape(e.shape); // (reference scalars are stored as [1])
        Assert.Equal(expected.numel(), actual.numel());
        double maxAbs = (a - e).abs().max().item<double>();
        double worst = ((a - e).abs() - rtol * e.abs()).max().item<double>();
        log.WriteLine($"{name}: max |diff| = {maxAbs:E2} (shape [{string.Join(", ", e.shape)}])");
        Assert.True(worst <= atol, $"{name}: max |diff| {maxAbs:E3} exceeds atol {atol:E1} + rtol {rtol:E1}·|expected|");
        return maxAbs;
    }
}
