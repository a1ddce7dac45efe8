namespace Distill.Caching;

/// <summary>One fixed-size field of a cached example's record: a tensor of <paramref name="DType"/>
/// (<c>float32</c>, <c>float16</c>, <c>int8</c>, <c>int32</c>) with per-example shape <paramref name="Shape"/>.</summary>
public sealed record CachePart(string Name, string DType, long[] Shape)
{
    public long Bytes => Shape.Aggregate(1L, (a, b) => a * b) * CacheCodec.ElementSize(DType);
}
