using Distill.Checkpoints;
using Distill.Models;
using Distill.Models.Wav2Vec2;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Wav2Vec2;

/// <summary>Loads the HF reference folders of SOURCES.md §6c and compares tensors with reported differences.</summary>
internal static class Wav2Vec2TestData
{
    public static string Folder(string variant, string cls) =>
        TestPaths.Hf($"wav2vec2-tiny-random-{variant}-{cls}");

    public static Wav2Vec2Config Config(string folder) => Wav2Vec2Config.FromJsonFile(Path.Combine(folder, "config.json"));

    public static Dictionary<string, Tensor> Reference(string folder) =>
        SafeTensors.Load(Path.Combine(folder, "reference", "reference_outputs.safetensors"));

    /// <summary>The checkpoint's tensors, with <paramref name="addPrefix"/> prepended to every key (for loading a bare Wav2Vec2Model checkpoint into a head) or <paramref name="stripPrefix"/> removed.</summary>
    public static Dictionary<string, Tensor> Checkpoint(string folder, string? addPrefix = null, string? stripPrefix = null)
    {
        var raw = Wav2Vec2StateDict.Normalize(SafeTensors.Load(Path.Combine(folder, "model.safetensors")));
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, v) in raw)
        {
            string key = k;
            if (stripPrefix is not null)
            {
                if (!key.StartsWith(stripPrefix, StringComparison.Ordinal)) continue; // head weights are not part of the base model
                key = key[stripPrefix.Length..];
            }
            if (addPrefix is not null) key = addPrefix + key;
            result[key] = v;
        }
        return result;
    }

    /// <summary>Loads <paramref name="state"/> and asserts that no key is missing or unexpected, except <paramref name="allowedMissing"/>.</summary>
    public static void LoadStrict(nn.Module module, Dictionary<string, Tensor> state, params string[] allowedMissing)
    {
        var (missing, unexpected) = module.load_state_dict(state, strict: false);
        Assert.Empty(unexpected);
        Assert.Equal(allowedMissing.Order(), missing.Order());
        if (allowedMissing.Length == 0) module.load_state_dict(state, strict: true);
    }

    public static Batch Batch(Dictionary<string, Tensor> reference, bool withMask, bool withLabels)
    {
        var inputs = new Dictionary<string, Tensor> { ["input_values"] = reference["input_values"] };
        if (withMask) inputs["attention_mask"] = reference["attention_mask"];
        return new Batch(inputs, withLabels ? reference["labels"] : null);
    }

    /// <summary>Asserts |a − e| ≤ atol + rtol·|e| elementwise and returns max |a − e|.</summary>
    public static double AssertClose(ITestOutputHelper log, string name, Tensor actual, Tensor expected, double atol, double rtol = 0)
    {
        Assert.Equal(expected.shape, actual.shape);
        var a = actual.detach().to_type(ScalarType.Float64);
        var e = expected.detach().to_type(ScalarType.Float64);
        var diff = (a - e).abs();
        double maxAbs = diff.max().item<double>();
        double worst = (diff - (atol + rtol * e.abs())).max().item<double>();
        log.WriteLine($"{name}: max|diff| = {maxAbs:E2} (max|ref| = {e.abs().max().item<double>():E2})");
        Assert.True(worst <= 0, $"{name}: max |diff| {maxAbs:E3} exceeds atol {atol:E1} + rtol {rtol:E1}·|ref|");
        return maxAbs;
    }
}
