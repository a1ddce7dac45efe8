using System.Text;

namespace Distill.Checkpoints;

/// <summary>
/// What <see cref="StateDictLoader.Load"/> did: which model keys were filled, which checkpoint keys were renamed (and by
/// which rule), and every tolerated difference. Nothing is hidden: a new head or an ignored key is listed here.
/// </summary>
/// <param name="Loaded">Model keys filled from the checkpoint.</param>
/// <param name="Renamed">Checkpoint keys loaded under another name.</param>
/// <param name="Missing">Model keys not filled, tolerated (non-strict or <see cref="LoadOptions.IgnoreMissing"/>).</param>
/// <param name="Unexpected">Checkpoint keys not used, tolerated (non-strict or <see cref="LoadOptions.IgnoreUnexpected"/>).</param>
/// <param name="NewlyInitialised">Model head keys left at their initial values.</param>
/// <param name="DroppedHead">Checkpoint head keys not used (<see cref="LoadOptions.AllowDroppedHead"/>).</param>
/// <param name="SourceName">Where the tensors came from, when known.</param>
public sealed record LoadReport(
    IReadOnlyList<string> Loaded,
    IReadOnlyList<KeyRename> Renamed,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<NewHeadKey> NewlyInitialised,
    IReadOnlyList<string> DroppedHead,
    string? SourceName)
{
    /// <summary>Model parts the checkpoint lacked as a whole, left at their initial values (<see cref="LoadOptions.NewParts"/>).</summary>
    public IReadOnlyList<NewPart> NewParts { get; init; } = [];

    /// <summary>True when every model key was loaded under its own name and every checkpoint key was used.</summary>
    public bool IsExact => Renamed.Count == 0 && Missing.Count == 0 && Unexpected.Count == 0 && NewlyInitialised.Count == 0 && DroppedHead.Count == 0
                           && NewParts.Count == 0;

    /// <summary>A multi-line human-readable summary (renames grouped by rule).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append($"loaded {Loaded.Count} tensors{(SourceName is null ? "" : $" from {SourceName}")}");
        foreach (var g in Renamed.GroupBy(r => r.Rule))
            sb.Append($"\n  renamed ({g.Key}): {g.Count()} keys, e.g. {g.First().From} -> {g.First().To}");
        if (NewlyInitialised.Count > 0)
            sb.Append($"\n  newly initialised head: {string.Join("; ", NewlyInitialised.Select(n => $"{n.Key} ({n.Reason})"))}");
        foreach (var p in NewParts)
            sb.Append($"\n  newly initialised {p.Name} ({string.Join(", ", p.Keys)}): {p.Reason}");
        if (DroppedHead.Count > 0) sb.Append($"\n  checkpoint head not used: {string.Join(", ", DroppedHead)}");
        if (Missing.Count > 0) sb.Append($"\n  missing (tolerated): {string.Join(", ", Missing)}");
        if (Unexpected.Count > 0) sb.Append($"\n  unexpected (tolerated): {string.Join(", ", Unexpected)}");
        return sb.ToString();
    }
}
