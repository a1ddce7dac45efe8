using Distill.Checkpoints;
using Distill.Compression.Artifact;
using Distill.Recipes;
using Distill.Stages;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Quantization;

/// <summary>
/// The linear quantization grids of a student, saved by a <c>quantize</c> stage as <c>quantization.safetensors</c> next
/// to its model: for each quantized weight <c>&lt;name&gt;.scales</c> (float32, one per channel or one),
/// <c>&lt;name&gt;.zero_points</c> (int64) and <c>&lt;name&gt;.grid</c> (int64 [bits, per_channel, symmetric]). The export
/// stage stores those weights as codes on these grids.
/// </summary>
public static class QuantizationGrids
{
    public const string FileName = "quantization.safetensors";

    public static void Save(string modelDir, IReadOnlyDictionary<string, LinearQuantParams> grids)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, q) in grids)
        {
            tensors[$"{name}.scales"] = torch.tensor(q.Scales);
            tensors[$"{name}.zero_points"] = torch.tensor(q.ZeroPoints.Select(z => (long)z).ToArray());
            tensors[$"{name}.grid"] = torch.tensor(new long[] { q.Bits, q.PerChannel ? 1 : 0, q.Symmetric ? 1 : 0 });
        }
        SafeTensors.Save(Path.Combine(modelDir, FileName), tensors);
        foreach (var t in tensors.Values) t.Dispose();
    }

    public static IReadOnlyDictionary<string, LinearQuantParams> Load(string modelDir)
    {
        string path = Path.Combine(modelDir, FileName);
        var result = new Dictionary<string, LinearQuantParams>(StringComparer.Ordinal);
        if (!File.Exists(path)) return result;
        var tensors = SafeTensors.Load(path);
        foreach (var key in tensors.Keys.Where(k => k.EndsWith(".grid", StringComparison.Ordinal)))
        {
            string name = key[..^".grid".Length];
            if (!tensors.TryGetValue($"{name}.scales", out var scales) || !tensors.TryGetValue($"{name}.zero_points", out var zps))
                throw new InvalidDataException($"{path}: '{name}' has a grid but no scales or zero_points.");
            var g = tensors[key].data<long>().ToArray();
            if (g.Length != 3) throw new InvalidDataException($"{path}: '{key}' must hold [bits, per_channel, symmetric].");
            result[name] = new LinearQuantParams((int)g[0], g[1] != 0, g[2] != 0,
                scales.to(ScalarType.Float32).data<float>().ToArray(), zps.data<long>().Select(z => (int)z).ToArray());
        }
        foreach (var t in tensors.Values) t.Dispose();
        return result;
    }

    /// <summary>The grids of the student as it stands before <paramref name="stage"/>: those saved by the last earlier stage
    /// that produced the student, when that stage saved any.</summary>
    public static IReadOnlyDictionary<string, LinearQuantParams> Latest(RunContext run, StageSpec stage)
    {
        StageSpec? producer = null;
        foreach (var s in run.Recipe.Stages)
        {
            if (ReferenceEquals(s, stage)) break;
            if (StageRegistry.Default.Get(s.Kind).Create(s).Produces == ModelRole.Student) producer = s;
        }
        return producer is null ? new Dictionary<string, LinearQuantParams>() : Load(run.ModelDir(producer));
    }
}
