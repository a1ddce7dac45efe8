using System.Text.Json.Serialization;

namespace Distill.Caching;

/// <summary>
/// One cached teacher output (<c>logits</c>, <c>tap</c> of a module path, <c>hidden</c> state i, <c>attention</c> map i):
/// a file of records, each the concatenation of its parts in order (little-endian, C order). A fixed entry has
/// records of <see cref="RecordBytes"/>, example i at byte <c>i · RecordBytes</c>. A token entry
/// (<see cref="TokenAxes"/> set: text hidden states and attention maps) stores each example's real tokens only, so its
/// record size follows the example's token count in <c>token_lengths.bin</c>, records back to back in example order.
/// </summary>
public sealed record CacheEntry
{
    /// <summary>Unique name: <c>logits</c>, <c>tap:&lt;path&gt;</c>, <c>hidden:&lt;i&gt;</c>, <c>attention:&lt;i&gt;</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Per-example shape of the decoded tensor (no batch dimension); −1 on the <see cref="TokenAxes"/>.</summary>
    public required long[] Shape { get; init; }

    /// <summary>Axes of <see cref="Shape"/> that run over the tokens (stored at each example's length); null for a fixed entry.</summary>
    public int[]? TokenAxes { get; init; }

    /// <summary>File name inside the cache folder.</summary>
    public required string File { get; init; }

    /// <summary>The parts of a fixed entry's record; empty for a token entry (see <see cref="AtLength"/>).</summary>
    public required List<CachePart> Parts { get; init; }

    [JsonIgnore] public long RecordBytes => Parts.Sum(p => p.Bytes);

    /// <summary>A token entry as the fixed entry of one example with <paramref name="tokens"/> real tokens.</summary>
    public CacheEntry AtLength(long tokens, CacheEncoding encoding, int? topK)
    {
        if (TokenAxes is null) return this;
        long[] shape = [.. Shape];
        foreach (int axis in TokenAxes) shape[axis] = tokens;
        return this with { Shape = shape, TokenAxes = null, Parts = CacheCodec.Parts(Name, shape, encoding, topK) };
    }
}
