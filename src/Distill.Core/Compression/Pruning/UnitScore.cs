namespace Distill.Compression.Pruning;

/// <summary>How structured pruning ranks units (the lowest-ranked are removed).</summary>
public enum UnitScore
{
    /// <summary>L2 norm of the unit's incoming weights (for conv channels: of the filter; Li et al. 2017 use L1).</summary>
    Magnitude,

    /// <summary>First-order Taylor importance (Molchanov et al. 2019): the squared sum of g·w over the unit's incoming
    /// parameters, averaged over batches — the estimated change of the loss if the unit were removed.</summary>
    Taylor,
}
