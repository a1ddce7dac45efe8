using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Hf;

/// <summary>
/// How to build the model for one HF architecture name (<c>architectures[0]</c> in config.json, e.g.
/// <c>BertForSequenceClassification</c>) and how its keys relate to other checkpoints of the same family.
/// </summary>
/// <param name="Name">The HF class name.</param>
/// <param name="BasePrefix">HF <c>base_model_prefix</c> without the dot ("bert", "vit", "wav2vec2"): the prefix added or
/// stripped between base and head checkpoints (see <see cref="Distill.Checkpoints.StateDictLoader"/>).</param>
/// <param name="Factory">Builds the (randomly initialised) model from the path of config.json.</param>
public sealed record HfArchitecture(string Name, string BasePrefix, Func<string, nn.Module> Factory)
{
    /// <summary>The config's <c>model_type</c> this architecture expects ("bert"); null = not checked.</summary>
    public string? ModelType { get; init; }

    /// <summary>Regexes for model keys a checkpoint may lack (HF <c>_keys_to_ignore_on_load_missing</c>).</summary>
    public IReadOnlyList<string> IgnoreOnLoadMissing { get; init; } = [];

    /// <summary>Regexes for checkpoint keys the model may ignore (HF <c>_keys_to_ignore_on_load_unexpected</c>).</summary>
    public IReadOnlyList<string> IgnoreOnLoadUnexpected { get; init; } = [];
}
