using Distill.Models;
using Distill.Models.Design;

namespace Distill.Design;

/// <summary>One student architecture of a design space, with what can be known without timing it.</summary>
public sealed record Candidate
{
    /// <summary>Position in the enumeration of the space (stable for a given space and base config).</summary>
    public required int Index { get; init; }

    public required IModelConfig Config { get; init; }

    /// <summary>Short description (<c>L4 H256 A4 I1024</c>).</summary>
    public required string Label { get; init; }

    /// <summary>The searched dimensions.</summary>
    public required IReadOnlyDictionary<string, object> Dims { get; init; }

    public required long Params { get; init; }

    /// <summary>Parameters without embedding lookup tables: the capacity measure the default pick maximises.</summary>
    public required long Capacity { get; init; }

    /// <summary>Multiply-accumulates of one batch at the deployment shape.</summary>
    public required double Macs { get; init; }

    /// <summary>Cost features (see <see cref="DesignFamily.FeatureNames"/>).</summary>
    public required double[] Features { get; init; }

    /// <summary>Profile-cache key (family, full config, input shapes).</summary>
    public required string CacheKey { get; init; }

    /// <summary>Bytes of the dense weights at fp32.</summary>
    public long Bytes => Params * 4;
}
