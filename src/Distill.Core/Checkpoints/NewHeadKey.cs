namespace Distill.Checkpoints;

/// <summary>A model head key left at its initial value (allowed by <see cref="LoadOptions.AllowNewHead"/>), and why.</summary>
public sealed record NewHeadKey(string Key, string Reason);
