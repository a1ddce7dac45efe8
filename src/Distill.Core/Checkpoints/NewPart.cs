namespace Distill.Checkpoints;

/// <summary>A model part the checkpoint lacked as a whole, left at its initial values (<see cref="NewPartRule"/>).</summary>
/// <param name="Name">The part ("pooler").</param>
/// <param name="Keys">Its model keys, sorted.</param>
/// <param name="Reason">The rule's reason.</param>
public sealed record NewPart(string Name, IReadOnlyList<string> Keys, string Reason);
