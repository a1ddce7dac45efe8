namespace Distill.Checkpoints;

/// <summary>A checkpoint key loaded under another name, and the HF rule that allowed it.</summary>
public sealed record KeyRename(string From, string To, string Rule);
