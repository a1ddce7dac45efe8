using System.Text.Json.Serialization;

namespace Distill.Caching;

/// <summary>
/// One cached teacher output (<c>logits</c>, <c>tap</c> of a module path, <c>hidden</c> state i, <c>attention</c> map i):
/// a file of fixed-size records, example i at byte <c>i · RecordBytes</c>, each record the concatenation of
/// <see cref="Parts"/> in order (little-endian, C order).
/// </summary>
public sealed record CacheEntry
{
    /// <summary>Unique name: <c>logits</c>, <c>tap:&lt;path&gt;</c>, <c>hidden:&lt;i&gt;</c>, <c>attention:&lt;i&gt;</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Per-example shape of the decoded tensor (no batch dimension).</summary>
    public required long[] Shape { get; init; }

    /// <summary>File name inside the cache folder.</summary>
    public required string File { get; init; }

    public required List<CachePart> Parts { get; init; }

    [JsonIgnore] public long RecordBytes => Parts.Sum(p => p.Bytes);
}
