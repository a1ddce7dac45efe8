using static TorchSharp.torch;

namespace Distill.Checkpoints;

// The data values RestrictedUnpickler builds (besides None, bool, long, double, string, object?[] tuples and
// List<object?> lists). None of them can execute anything; they are records the loader interprets.

/// <summary>What an allowed global stands for.</summary>
internal enum PickleGlobalKind { OrderedDict, RebuildTensorV2, RebuildParameter, Storage }

/// <summary>An allowed global (<c>module.name</c>); for storage classes, the element type.</summary>
internal sealed record PickleGlobal(string Module, string Name, PickleGlobalKind Kind, ScalarType StorageType)
{
    public string FullName => $"{Module}.{Name}";
}

/// <summary>A dict or OrderedDict built by the pickle. Keys must be strings (a state dict's are); insertion order kept.</summary>
internal sealed class PickleDict
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    public List<KeyValuePair<string, object?>> Items { get; } = new();
    public bool Ordered { get; init; }

    public void Set(string key, object? value)
    {
        if (_index.TryGetValue(key, out int i)) Items[i] = new(key, value);
        else { _index[key] = Items.Count; Items.Add(new(key, value)); }
    }
}

/// <summary>A storage named by a persistent id: <c>('storage', torch.FloatStorage, key, location, numel)</c>.</summary>
internal sealed record PickleStorage(string Key, ScalarType DType, long Numel, string Location);

/// <summary>The result of <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)</c>: a view, not yet materialised.</summary>
internal sealed record PickleTensor(PickleStorage Storage, long Offset, long[] Size, long[] Stride);
