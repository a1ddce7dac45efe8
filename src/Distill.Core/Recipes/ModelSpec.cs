using Distill.Hf;
using Distill.Models;
using Distill.Models.Init;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// A teacher or student: a model family with its config, optionally with weights from a checkpoint. Three ways to say
/// what the model is: <c>model</c> (+ <c>config</c>); <c>pretrained: &lt;hf-folder&gt;</c> (family, config and weights
/// from a HuggingFace folder); or, for the student, <c>init_from_teacher</c> (the teacher's architecture, fewer layers,
/// optionally narrower, initialised from the teacher's weights). After loading, <see cref="Model"/> and
/// <see cref="Config"/> are filled in all three cases (see README "HuggingFace folders").
/// </summary>
public sealed record ModelSpec
{
    /// <summary>Model family key (<c>mlp</c>, <c>cnn</c>, <c>vit</c>, <c>bert</c>, ...). Required unless
    /// <c>pretrained</c> or <c>init_from_teacher</c> gives it; when given with them, it must agree.</summary>
    public string Model { get; init; } = "";

    /// <summary>The family's config record; its keys depend on <c>model</c>. Omitted keys take the family defaults.
    /// Not allowed with <c>pretrained</c> (the folder's config.json is the config) or <c>init_from_teacher</c>.</summary>
    [TypeFromSibling("model", typeof(ModelConfigResolver))]
    public IModelConfig? Config { get; init; }

    /// <summary>Weights to start from: a Distill checkpoint folder or file. When given for the teacher, no <c>train_teacher</c> stage is needed.</summary>
    [ExistingPath(FileOrFolder = true)]
    public string? Checkpoint { get; init; }

    /// <summary>A HuggingFace model folder (config.json + model.safetensors or pytorch_model.bin): the family and
    /// config come from its config.json and its weights load strictly. A teacher given this way needs no
    /// <c>train_teacher</c> stage (with one, the stage fine-tunes it). When the dataset has another number of classes
    /// than the folder's head, or the folder is a bare base model, the head is new (reported in the log and summary.json).</summary>
    [ExistingPath(Folder = true)]
    public string? Pretrained { get; init; }

    /// <summary>Student only: derive the student from the teacher (layers, optionally narrower sizes) and initialise it
    /// from the teacher's weights (see <see cref="InitFromTeacherSpec"/>).</summary>
    public InitFromTeacherSpec? InitFromTeacher { get; init; }

    /// <summary>
    /// The config a run builds this model from: <see cref="Config"/>, except that a <c>pretrained</c> spec's head is
    /// resized to <paramref name="numClasses"/> when the folder's head has another width (<paramref name="note"/> says
    /// so), and an <c>init_from_teacher</c> student is derived from the teacher's actual config
    /// (<paramref name="teacherConfig"/>, which may itself have a resized head).
    /// </summary>
    /// <param name="teacherConfig">The teacher's config; required for <c>init_from_teacher</c>.</param>
    /// <param name="numClasses">The dataset's number of classes; required for <c>pretrained</c>.</param>
    /// <param name="note">Set when a pretrained head is replaced by a new one.</param>
    public IModelConfig EffectiveConfig(IModelConfig? teacherConfig, int? numClasses, out string? note)
    {
        note = null;
        var config = Config ?? throw new InvalidOperationException($"The '{Model}' model spec has no bound config.");
        if (InitFromTeacher is { } init)
        {
            var teacher = teacherConfig ?? throw new InvalidOperationException("init_from_teacher: the teacher's config is needed to derive the student's.");
            return StudentInitRegistry.Default.Get(Model).DeriveConfig(teacher, init);
        }
        if (Pretrained is not null)
        {
            if (!HfArchitectureRegistry.Default.TryGetFamily(Model, out var family))
                throw new InvalidOperationException($"pretrained: '{Model}' is not a HF family.");
            int classes = numClasses ?? throw new InvalidOperationException("pretrained: the dataset's number of classes is needed to size the head.");
            return HfPretrained.ConfigForClasses(config, family, classes, out note);
        }
        return config;
    }
}
