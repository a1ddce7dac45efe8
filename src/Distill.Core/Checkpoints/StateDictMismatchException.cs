namespace Distill.Checkpoints;

/// <summary>
/// A checkpoint does not fit a model under the requested <see cref="LoadOptions"/>. The message lists every missing,
/// unexpected, ambiguous and mismatched key (with expected and found shapes), names the source when known and says which
/// option would allow a tolerated difference. Nothing was copied into the model.
/// </summary>
public sealed class StateDictMismatchException(
    string message,
    IReadOnlyList<string> missing,
    IReadOnlyList<string> unexpected,
    IReadOnlyList<string> mismatched) : Exception(message)
{
    /// <summary>Model keys with no checkpoint tensor.</summary>
    public IReadOnlyList<string> Missing { get; } = missing;

    /// <summary>Checkpoint keys the model has no place for.</summary>
    public IReadOnlyList<string> Unexpected { get; } = unexpected;

    /// <summary>One line per key whose shape, dtype kind or mapping is wrong.</summary>
    public IReadOnlyList<string> Mismatched { get; } = mismatched;
}
