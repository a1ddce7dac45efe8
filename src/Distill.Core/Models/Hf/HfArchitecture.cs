using Distill.Checkpoints;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Hf;

/// <summary>
/// How to build the model for one HF architecture name (<c>architectures[0]</c> in config.json, e.g.
/// <c>BertForSequenceClassification</c>) and how its keys relate to other checkpoints of the same family.
/// Model families list one per HF class in their descriptor's <see cref="HfFamily.Architectures"/>, usually through
/// <see cref="Head"/> (a <see cref="DistillModel"/> with a task head) or <see cref="Base{TModule,TOutput}"/> (a bare
/// encoder such as <c>BertModel</c>), which also tell <c>distill forward</c> how to run the module.
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

    /// <summary>Parts the checkpoint may lack as a whole, newly initialised and reported (BERT's pooler: sentence-transformers
    /// and other encoder-only exports leave it out, and <c>from_pretrained</c> initialises it anew).</summary>
    public IReadOnlyList<NewPartRule> NewPartsOnLoad { get; init; } = [];

    /// <summary>True for a bare base model (<c>BertModel</c>, <c>ViTModel</c>): its keys carry no base prefix and it has
    /// no task head, so loading it into a head architecture initialises a new head.</summary>
    public bool IsBase { get; init; }

    /// <summary>
    /// Runs a module built by <see cref="Factory"/> on a batch with every optional output switched on (hidden states
    /// and attentions) and returns its outputs by HF name. Null: the module must be a <see cref="DistillModel"/> whose
    /// output implements <see cref="INamedOutputs"/> (see <c>Hf.HfForward</c>).
    /// </summary>
    public Func<nn.Module, Batch, INamedOutputs>? Forward { get; init; }

    /// <summary>A task-head architecture whose module is a <see cref="DistillModel"/> (its output must implement
    /// <see cref="INamedOutputs"/>).</summary>
    /// <param name="name">HF class name, e.g. <c>BertForSequenceClassification</c>.</param>
    /// <param name="modelType">The config's <c>model_type</c>, e.g. <c>bert</c>.</param>
    /// <param name="basePrefix">HF <c>base_model_prefix</c>, e.g. <c>bert</c>.</param>
    /// <param name="factory">Builds the model from the path of config.json.</param>
    public static HfArchitecture Head(string name, string modelType, string basePrefix, Func<string, DistillModel> factory) =>
        new(name, basePrefix, factory) { ModelType = modelType };

    /// <summary>A base-model architecture: a module that maps a <see cref="Batch"/> to named outputs.</summary>
    /// <typeparam name="TModule">The module class, e.g. <c>BertModel</c>.</typeparam>
    /// <typeparam name="TOutput">Its output record, e.g. <c>BertModelOutput</c>.</typeparam>
    /// <param name="name">HF class name, e.g. <c>BertModel</c>.</param>
    /// <param name="modelType">The config's <c>model_type</c>.</param>
    /// <param name="basePrefix">HF <c>base_model_prefix</c> of the family (the head models' prefix).</param>
    /// <param name="factory">Builds the module from the path of config.json.</param>
    /// <param name="outputAttentions">Switches the module's attention output on or off.</param>
    public static HfArchitecture Base<TModule, TOutput>(string name, string modelType, string basePrefix,
        Func<string, TModule> factory, Action<TModule, bool> outputAttentions)
        where TModule : nn.Module<Batch, TOutput>
        where TOutput : INamedOutputs =>
        new(name, basePrefix, factory)
        {
            ModelType = modelType,
            IsBase = true,
            Forward = (module, batch) =>
            {
                var typed = module as TModule ?? throw new ArgumentException(
                    $"HF architecture {name} runs {typeof(TModule).Name} modules, not {module.GetType().Name}.", nameof(module));
                outputAttentions(typed, true);
                return typed.call(batch);
            },
        };
}
