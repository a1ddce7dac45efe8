namespace Distill.Checkpoints;

/// <summary>
/// How <see cref="StateDictLoader"/> matches checkpoint keys to a model's state dict. Strict by default: every model key
/// must be filled and every checkpoint key used. The only tolerated differences are the ones HuggingFace itself applies
/// (see <see cref="StateDictLoader"/>), and the head-related ones only when asked for; all of them are reported.
/// </summary>
public sealed record LoadOptions
{
    /// <summary>Strict loading, no base prefix, no head changes.</summary>
    public static LoadOptions Default { get; } = new();

    /// <summary>When true (default) missing or unexpected keys throw; when false they are only listed in the report.
    /// Shape and dtype-kind mismatches always throw.</summary>
    public bool Strict { get; init; } = true;

    /// <summary>The architecture's base-model prefix without the dot (HF <c>base_model_prefix</c>: "bert", "vit",
    /// "wav2vec2"). Enables adding/stripping it when a base checkpoint meets a head model or vice versa, and defines the
    /// head: model keys outside the prefix.</summary>
    public string? BasePrefix { get; init; }

    /// <summary>Allow head keys of the model to stay at their initial values: absent from the checkpoint (base checkpoint
    /// into a head model, or another head) or of a different shape (num_labels changed). Listed in
    /// <see cref="LoadReport.NewlyInitialised"/>.</summary>
    public bool AllowNewHead { get; init; }

    /// <summary>Allow the checkpoint's head keys (outside <see cref="BasePrefix"/>) to go unused, e.g. a classification
    /// checkpoint loaded into a base model. Listed in <see cref="LoadReport.DroppedHead"/>.</summary>
    public bool AllowDroppedHead { get; init; }

    /// <summary>Regular expressions (searched, like HF's <c>_keys_to_ignore_on_load_missing</c>) for model keys that may be
    /// absent from the checkpoint; they are listed in <see cref="LoadReport.Missing"/>.</summary>
    public IReadOnlyList<string> IgnoreMissing { get; init; } = [];

    /// <summary>Regular expressions (like HF's <c>_keys_to_ignore_on_load_unexpected</c>) for checkpoint keys the model
    /// does not use; they are listed in <see cref="LoadReport.Unexpected"/>.</summary>
    public IReadOnlyList<string> IgnoreUnexpected { get; init; } = [];

    /// <summary>Model parts that may be absent from the checkpoint as a whole (HF initialises missing weights anew;
    /// Distill allows it only for the parts named here, e.g. BERT's pooler). Listed in <see cref="LoadReport.NewParts"/>.</summary>
    public IReadOnlyList<NewPartRule> NewParts { get; init; } = [];

    /// <summary>Where the tensors came from (a file path), named in errors and in the report.</summary>
    public string? SourceName { get; init; }
}
