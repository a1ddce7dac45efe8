namespace Distill.Checkpoints;

/// <summary>
/// A named part of a model (e.g. BERT's pooler) that a checkpoint may lack as a whole: its keys are then left at their
/// initial values and reported (<see cref="LoadReport.NewParts"/>), as transformers' <c>from_pretrained</c> initialises
/// missing weights anew. A part present only in part is still a strict error.
/// </summary>
/// <param name="Name">What the part is, for messages ("pooler").</param>
/// <param name="KeyPattern">Regular expression (searched) for the model keys of the part.</param>
/// <param name="Reason">Why it may be absent and what happens, for the report.</param>
public sealed record NewPartRule(string Name, string KeyPattern, string Reason);
