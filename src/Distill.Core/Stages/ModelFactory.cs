using Distill.Hf;
using Distill.Models;
using Distill.Models.Init;
using Distill.Recipes;
using Distill.Stages.Results;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Stages;

/// <summary>
/// Builds the models of a run with an explicit role: fresh from a recipe spec (filled from a <c>pretrained</c> folder,
/// initialised from the teacher), or the design stage's pick. What building recorded (a new head, new parts, the
/// teacher initialisation) comes back with the model, for the calling stage's own summary entry.
/// The calls into the model families (registry, student-init rules, teacher initialisation) are all in this class.
/// </summary>
public sealed class ModelFactory(RunEnvironment run)
{
    /// <summary><see cref="Build(ModelRole, ModelSpec, Generator, DistillModel?, DesignedStudent?)"/> with a fresh generator seeded with <paramref name="seed"/>.</summary>
    public BuiltModel Build(ModelRole role, ModelSpec spec, long seed, DistillModel? teacher = null, DesignedStudent? designed = null) =>
        Build(role, spec, ParamInit.Seeded(seed), teacher, designed);

    /// <summary>
    /// Builds a fresh model with its initialisation drawn from <paramref name="init"/> (a caller that initialises more,
    /// such as projectors, goes on drawing from it, as the global generator once went on), on the run's device. A student
    /// with a <paramref name="designed"/> pick is that pick (<see cref="BuildDesigned"/>); otherwise <paramref name="spec"/>:
    /// a <c>pretrained</c> spec loads its HF folder strictly (a head resized to the dataset's classes, or missing from a
    /// base-model folder, is new: logged and reported; so is a pooler the folder lacks); an <c>init_from_teacher</c> spec is
    /// derived from <paramref name="teacher"/>'s config and initialised from its weights.
    /// </summary>
    public BuiltModel Build(ModelRole role, ModelSpec spec, Generator init, DistillModel? teacher = null, DesignedStudent? designed = null)
    {
        if (role == ModelRole.Student && designed is not null) return new BuiltModel(BuildDesigned(designed, init, teacher, log: false), ModelBuildReport.None);
        string label = role switch { ModelRole.Teacher => "teacher", ModelRole.Student => "student", _ => "model" };
        if (spec.InitFromTeacher is not null && teacher is null)
            throw new InvalidOperationException(
                $"{label}.init_from_teacher: the teacher is not available yet; run a train_teacher stage before this one, or give teacher.pretrained or teacher.checkpoint.");
        var config = spec.EffectiveConfig(teacher?.Config, spec.Pretrained is null ? null : run.EvalData.NumClasses, out var headNote);
        var model = ParamInit.Build(init, () => NewModel(spec.Model, config));
        var report = ModelBuildReport.None;
        try
        {
            if (spec.Pretrained is { } folder)
            {
                var loaded = HfPretrained.LoadInto(model, folder);
                run.Log.WriteLine($"[{label}] pretrained {folder}: {loaded}");
                if (headNote is not null) run.Log.WriteLine($"[{label}] warning: {headNote}");
                if (loaded.NewlyInitialised.Count > 0)
                    report = report with
                    {
                        NewHead = new NewHeadReport
                        {
                            Pretrained = folder,
                            Reason = headNote ?? "the folder holds no head of this kind (a base model or another head)",
                            Keys = [.. loaded.NewlyInitialised.Select(n => $"{n.Key} ({n.Reason})")],
                        },
                    };
                foreach (var part in loaded.NewParts)
                    run.Log.WriteLine($"[{label}] warning: {folder} has no {part.Name} ({string.Join(", ", part.Keys)}): it is newly initialised, as transformers' from_pretrained does");
                if (loaded.NewParts.Count > 0)
                    report = report with
                    {
                        NewParts = new NewPartsReport
                        {
                            Pretrained = folder,
                            Parts = [.. loaded.NewParts.Select(p => new NewPartReport { Name = p.Name, Keys = [.. p.Keys], Reason = p.Reason })],
                        },
                    };
            }
            if (spec.InitFromTeacher is { } fromTeacher)
            {
                var init2 = InitFromTeacher(model, teacher!, spec.Model, fromTeacher);
                run.Log.WriteLine($"[{label}] init_from_teacher ({fromTeacher.Layers}): {init2}");
                report = report with
                {
                    InitFromTeacher = new InitFromTeacherReport { TeacherLayers = [.. init2.Layers], Copied = init2.Copied.Count, Truncated = init2.Truncated.Count },
                };
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new BuiltModel(model.to(run.Device), report);
    }

    /// <summary>A fresh student of a design stage's pick, seeded, on the run's device, with the teacher's tensors where
    /// they fit (when the design stage asks for it and there is a teacher).</summary>
    public DistillModel BuildDesigned(DesignedStudent designed, Generator init, DistillModel? teacher, bool log)
    {
        var student = ParamInit.Build(init, () => NewModel(designed.Family, designed.Config)).to(run.Device);
        if (designed.InitFromTeacher && teacher is not null)
        {
            var report = TeacherInit.ApplyWhereFits(student, teacher);
            if (log) run.Log.WriteLine($"[{designed.Stage}] initialised {report.FromTeacher} of {report.FromTeacher + report.Fresh.Count} student tensors from the teacher " +
                                       $"(student layers <- teacher layers [{string.Join(", ", report.Layers)}], {report.Truncated.Count} truncated to narrower widths)");
        }
        return student;
    }

    private static DistillModel NewModel(string family, IModelConfig config) => ModelRegistry.Default.Get(family).Build(config);

    private static StudentInitReport InitFromTeacher(DistillModel model, DistillModel teacher, string family, InitFromTeacherSpec spec)
    {
        var rules = StudentInitRegistry.Default.Get(family);
        var layers = spec.Layers.Resolve(rules.ShapeOf(teacher.Config).Layers);
        return TeacherInit.Apply(model, teacher, layers, rules);
    }
}
