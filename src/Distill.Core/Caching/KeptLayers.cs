using static TorchSharp.torch;

namespace Distill.Caching;

/// <summary>
/// A model's per-layer outputs (hidden states or attention maps) of which only the layers the loss terms read were kept
/// (after the teacher's forward pass, or in the cache). Reading another layer is a wiring error and says so, instead of
/// returning a freed tensor.
/// </summary>
public sealed class KeptLayers(int count, IReadOnlyDictionary<int, Tensor> kept, string what) : IReadOnlyList<Tensor>
{
    public int Count => count;

    public Tensor this[int index] => kept.TryGetValue(index, out var t)
        ? t
        : throw new InvalidOperationException(
            $"Teacher {what} {index} was not kept: only [{string.Join(", ", kept.Keys.Order())}] are, the ones the loss terms declared " +
            "(ILossTerm.TeacherReads). A term reading other layers must declare them.");

    public IEnumerator<Tensor> GetEnumerator() =>
        Enumerable.Range(0, count).Select(i => this[i]).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
