using Distill.Checkpoints;
using Distill.Compression.Artifact;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Weightless;

/// <summary>
/// The Bloomier tables a <c>weightless</c> stage leaves beside its model as <c>weightless.safetensors</c>, for the
/// export stage and the next weightless stage: per encoded weight <c>&lt;name&gt;.table</c> (int32 cells),
/// <c>.codebook</c> (float32) and <c>.params</c> (int64 [bits, hashes, seed]). The tables cannot be rebuilt from the
/// model: once frozen, a layer's false positives look like stored weights.
/// </summary>
public sealed record WeightlessRecord(IReadOnlyDictionary<string, BloomierTensor> Tables)
{
    public const string FileName = "weightless.safetensors";

    public static WeightlessRecord Empty { get; } = new(new Dictionary<string, BloomierTensor>());

    public void Save(string modelDir)
    {
        if (Tables.Count == 0) return;
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, t) in Tables)
        {
            tensors[$"{name}.table"] = torch.tensor(t.Filter.Table);
            tensors[$"{name}.codebook"] = torch.tensor(t.Codebook);
            tensors[$"{name}.params"] = torch.tensor(new long[] { t.Filter.ValueBits, t.Filter.Hashes, t.Filter.Seed });
        }
        SafeTensors.Save(Path.Combine(modelDir, FileName), tensors);
        foreach (var t in tensors.Values) t.Dispose();
    }

    /// <summary>The record saved in <paramref name="modelDir"/>, or <see cref="Empty"/> when there is none.</summary>
    public static WeightlessRecord Load(string modelDir)
    {
        string path = Path.Combine(modelDir, FileName);
        if (!File.Exists(path)) return Empty;
        var tensors = SafeTensors.Load(path);
        try
        {
            var tables = new Dictionary<string, BloomierTensor>(StringComparer.Ordinal);
            foreach (var key in tensors.Keys.Where(k => k.EndsWith(".params", StringComparison.Ordinal)))
            {
                string name = key[..^".params".Length];
                if (!tensors.TryGetValue($"{name}.table", out var table) || !tensors.TryGetValue($"{name}.codebook", out var codebook))
                    throw new InvalidDataException($"{path}: '{name}' has params but no table or codebook.");
                try
                {
                    if (tensors[key].dtype != ScalarType.Int64) throw new ArgumentException($"'{key}' is {tensors[key].dtype}, not int64");
                    var p = tensors[key].data<long>().ToArray();
                    if (p.Length != 3) throw new InvalidDataException($"{path}: '{key}' must hold [bits, hashes, seed].");
                    var filter = new BloomierFilter(checked((int)p[0]), checked((int)p[1]), checked((uint)p[2]), table.data<int>().ToArray());
                    tables[name] = new BloomierTensor(filter, codebook.to(ScalarType.Float32).data<float>().ToArray());
                }
                catch (Exception e) when (e is ArgumentException or OverflowException)
                {
                    throw new InvalidDataException($"{path}: the Bloomier table of '{name}' is malformed: {e.Message}", e);
                }
            }
            return new WeightlessRecord(tables);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>This record with <paramref name="more"/> tables added.</summary>
    public WeightlessRecord With(IEnumerable<(string Name, BloomierTensor Table)> more)
    {
        var tables = new Dictionary<string, BloomierTensor>(Tables, StringComparer.Ordinal);
        foreach (var (name, table) in more) tables[name] = table;
        return new WeightlessRecord(tables);
    }
}
