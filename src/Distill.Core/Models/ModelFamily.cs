using Distill.Models.Hf;
using Distill.Models.Design;
using Distill.Models.Init;
using Distill.Models.Pruning;

namespace Distill.Models;

/// <summary>
/// Everything Distill knows about one model family, in one place: the recipe key, the config record, how a model is
/// built and what it reads, and the optional capabilities the rest of Distill asks the family for — its HF folder
/// format (<see cref="Hf"/>), initialisation from a teacher, the design stage's search space and the units structured
/// pruning removes. One subclass per family, in the family's folder (<c>Models/&lt;Family&gt;/&lt;Family&gt;Family.cs</c>),
/// registered once in <see cref="ModelRegistry.CreateDefault"/>; every other registry (HF architectures, student init,
/// design, pruning) is a view of <see cref="ModelRegistry"/>.
/// <para><b>Later per-family features</b> (ONNX export, …) plug in through <see cref="Feature{TFeature}"/>: the feature
/// defines an interface where it lives (any layer the family may see), the family's descriptor implements it, and the
/// feature's code asks <c>family.Feature&lt;IThatFeature&gt;()</c> (null = the family does not support it).</para>
/// </summary>
public abstract class ModelFamily
{
    /// <summary>Registry key used in recipes (<c>model: cnn</c>).</summary>
    public abstract string Key { get; }

    /// <summary>One line for <c>distill --help</c> and error messages.</summary>
    public abstract string Description { get; }

    /// <summary>The family's <see cref="IModelConfig"/> record type; recipes bind <c>config:</c> into it.</summary>
    public abstract Type ConfigType { get; }

    /// <summary>Names of the batch inputs the family reads (for example <c>pixel_values</c>).</summary>
    public abstract IReadOnlyList<string> Inputs { get; }

    /// <summary>Builds a freshly initialised model from a config instance of <see cref="ConfigType"/>.</summary>
    public abstract DistillModel Build(IModelConfig config);

    /// <summary>The family's HF folder format (model_type, config.json, head resizing, architectures); null = not an HF family.</summary>
    public virtual HfFamily? Hf => null;

    /// <summary>How the family's state-dict keys are laid out for initialising a model from a teacher of the family (layer
    /// list, head dimensions); null = no teacher initialisation.</summary>
    public virtual WeightLayout? InitLayout => null;

    /// <summary>The rules of <c>student.init_from_teacher</c> (deriving the student config from the teacher's); null =
    /// the recipe option is not available for the family. Its <see cref="StudentInitRules.Layout"/> is <see cref="InitLayout"/>.</summary>
    public virtual StudentInitRules? InitRules => null;

    /// <summary>The design stage's search space (search keys, candidates, deployment batch, cost features); null = the
    /// family cannot be designed. The search, timing and latency model that use it are in <c>Design/</c>.</summary>
    public virtual DesignFamily? Design => null;

    /// <summary>The units structured pruning can remove (heads, FFN neurons, channels); null = none.</summary>
    public virtual PrunableUnits? Units => null;

    /// <summary>The family's ONNX graph builder (<see cref="OnnxGraph.IOnnxFamilyExport"/>, used by <c>distill export --format onnx</c>); null = not exportable.</summary>
    public virtual OnnxGraph.IOnnxFamilyExport? Onnx => null;

    /// <summary>The optional feature <typeparamref name="TFeature"/> of this family (see the class remarks), or null.</summary>
    public TFeature? Feature<TFeature>() where TFeature : class => this as TFeature;

    /// <summary>The config as the family's record type; a config of another family is an error naming both.</summary>
    protected TConfig As<TConfig>(IModelConfig config) where TConfig : class, IModelConfig =>
        config as TConfig ?? throw new ArgumentException($"The {Key} family builds from a {typeof(TConfig).Name}, got {config?.GetType().Name ?? "null"}.", nameof(config));
}
