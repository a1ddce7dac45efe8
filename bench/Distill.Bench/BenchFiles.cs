using Distill.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>The bench's shared files: int32 index arrays and prefixed safetensors weights.</summary>
public static class BenchFiles
{
    public static void WriteInt32(string path, IEnumerable<int> values)
    {
        using var w = new BinaryWriter(File.Create(path));
        foreach (int v in values) w.Write(v); // little-endian
    }

    public static int[] ReadInt32(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length % 4 != 0) throw new InvalidDataException($"{path}: {bytes.Length} bytes is not a whole number of int32 values.");
        var values = new int[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    /// <summary>Copies <c>prefix + name</c> tensors into every state-dict entry of <paramref name="module"/>; a missing, extra or misshapen key is an error.</summary>
    public static void LoadPrefixed(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string prefix, string file)
    {
        var own = module.state_dict();
        var source = tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        var missing = own.Keys.Except(source.Keys).ToList();
        var extra = source.Keys.Except(own.Keys).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new InvalidDataException($"{file}: weights under '{prefix}' do not fit the model: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}].");
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in own)
        {
            var src = source[name];
            if (!src.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{file}: '{prefix}{name}' is ({string.Join(", ", src.shape)}), the model's is ({string.Join(", ", target.shape)}).");
            target.copy_(src);
        }
    }

    /// <summary><c>prefix + name</c> → tensor for every state-dict entry of <paramref name="module"/>.</summary>
    public static IEnumerable<KeyValuePair<string, Tensor>> Prefixed(nn.Module module, string prefix) =>
        module.state_dict().Select(kv => KeyValuePair.Create(prefix + kv.Key, kv.Value));
}
