namespace Distill.Recipes;

/// <summary>Where a run writes (the run folder holds summary.json, checkpoints/ and tb/).</summary>
public sealed record OutputSpec
{
    /// <summary>Run folder, relative to the current directory like <c>--out</c> (which overrides it) — the one recipe path not
    /// relative to the recipe's folder, so that <c>runs/x</c> lands where the command is run. Default: <c>runs/&lt;recipe file name&gt;</c>.</summary>
    public string? Dir { get; init; }

    /// <summary>Write TensorBoard event files under <c>&lt;run&gt;/tb/</c>.</summary>
    public bool Tensorboard { get; init; } = true;
}
