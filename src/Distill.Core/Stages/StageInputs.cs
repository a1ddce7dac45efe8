using Distill.Compression;
using Distill.Compression.Artifact;
using Distill.Compression.Quantization;
using Distill.Models;
using Distill.Stages.Results;
using static TorchSharp.torch;

namespace Distill.Stages;

/// <summary>
/// What a stage gets to work on: the run's environment, a model factory, and the current models the executor holds —
/// the teacher, the student the last stage left, and the design stage's pick (which a stage building "the recipe's
/// student" builds instead). Stages return what they produce (<see cref="StageOutput"/>) instead of setting it anywhere.
/// </summary>
public sealed record StageInputs(RunEnvironment Run, ModelFactory Factory, DistillModel? Teacher, DistillModel? Student, DesignedStudent? Designed)
{
    /// <summary>A fresh student: the design stage's pick when there was one, else <c>recipe.student</c>.</summary>
    public BuiltModel BuildStudent(Generator init) => Factory.Build(ModelRole.Student, Run.Recipe.Student, init, Teacher, Designed);

    /// <summary>A fresh <c>recipe.teacher</c>.</summary>
    public BuiltModel BuildTeacher(Generator init) => Factory.Build(ModelRole.Teacher, Run.Recipe.Teacher, init);

    /// <summary>The compression keys of <paramref name="model"/> (sizes against this run's teacher, latency on its first evaluation split).</summary>
    public CompressionEstimate Estimate(DistillModel model, ArtifactOptions? options = null, IReadOnlyList<ActivationRange>? activations = null) =>
        CompressionReport.Measure(model, Run.EvalData, Run.Recipe.Data.EvalBatchSize, Run.Device, Teacher, options, activations);
}
