using System.Reflection;
using Distill.Data;
using Distill.Losses;
using Distill.Models;
using Distill.Schema;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Recipes;

/// <summary>
/// The model-level checks of a recipe, run by <c>distill validate</c> and <c>distill run</c> after
/// <see cref="RecipeLoader"/> succeeded, so that a bad module path or an impossible hint fails in seconds instead of
/// after the teacher has trained.
/// <list type="number">
/// <item><b>Module paths.</b> Teacher and student are built from their configs on CPU and dropped (the global random
/// generator's state is saved and put back; torch's default device is process-wide, so switching it to meta would
/// make other threads' tensors meta tensors). Every path named by a spec implementing
/// <see cref="IModulePathSpec"/> (loss terms such as <see cref="HintSpec"/>, and stages) must be one of the model's
/// <c>named_modules()</c>; the error lists the nearest valid paths.</item>
/// <item><b>Loss terms, with a one-example probe.</b> When the recipe has loss terms, both models are built on CPU
/// (this consumes the global random generator; <c>pretrained</c> heads are sized to the dataset's classes, which reads
/// the evaluation split, and <c>init_from_teacher</c> students are derived from the teacher's config as the run does)
/// and run once in eval mode under <c>no_grad</c> with attentions on, on a
/// batch of one example shaped like the dataset's inputs (zeros for float inputs, ones for integer ids and masks).
/// Forward hooks on every module record the output shape of each module that returns a tensor; with the hidden-state
/// and attention shapes they form the <see cref="LossBuildContext"/> that each term's factory is called with, so a
/// hint whose shapes cannot be projected is reported before training. <see cref="LossConfigException"/> is reported at
/// <c>distill.terms[i].&lt;key&gt;</c>; a factory that is not implemented yet at <c>distill.terms[i].kind</c>.
/// Everything built is disposed.</item>
/// </list>
/// </summary>
public static class RecipeValidator
{
    /// <summary>Runs the model-level checks on a recipe that loaded without errors; returns the problems found (empty when fine).</summary>
    /// <param name="losses">The loss registry whose factories build the terms; <see cref="LossRegistry.Default"/> when null.</param>
    public static IReadOnlyList<RecipeError> Validate(RecipeLoadResult loaded, LossRegistry? losses = null)
    {
        if (!loaded.Succeeded || loaded.Source is null)
            throw new ArgumentException($"{loaded.Path}: the recipe has loading errors; report those before the model checks.", nameof(loaded));
        var recipe = loaded.Recipe!;
        var source = loaded.Source;
        var errors = new List<RecipeError>();

        var teacherModules = recipe.HasTeacher ? ModuleNamesOnMeta(recipe.Teacher, "teacher", source, errors) : [];
        var studentModules = ModuleNamesOnMeta(recipe.Student, "student", source, errors);
        if (teacherModules is null || studentModules is null) return errors;

        var pathSpecs = recipe.Distill.Terms.Cast<object>().Concat(recipe.Stages).OfType<IModulePathSpec>();
        foreach (var spec in pathSpecs)
            foreach (var (key, modulePath, isStudent) in spec.ModulePaths())
            {
                var names = isStudent ? studentModules : teacherModules;
                if (names.Contains(modulePath)) continue;
                var model = isStudent ? recipe.Student : recipe.Teacher;
                var (node, path) = source.Locate(spec, key);
                errors.Add(source.Error(node, path,
                    $"the {(isStudent ? "student" : "teacher")} ({model.Model}) has no module '{modulePath}'; nearest valid paths: " +
                    string.Join(", ", TextDistance.Nearest(modulePath, names, 4))));
            }
        foreach (var stage in recipe.Stages.OfType<ISpecChecks>())
            foreach (var (key, message) in stage.CheckModules(studentModules, teacherModules))
            {
                var (node, path) = source.Locate(stage, key);
                errors.Add(source.Error(node, path, message));
            }
        if (DatasetRegistry.Default.TryGet(recipe.Data.Dataset, out var kind) && kind.Vocabulary is { } vocabularyOf)
        {
            try
            {
                foreach (var (spec, role, message) in TranscriptChecks.ModelProblems(recipe, vocabularyOf(recipe.Data)))
                    errors.Add(ConfigError(spec, role, source, message));
                if (recipe.Distill.Cache is not null)
                {
                    var (node, path) = source.Locate(recipe.Distill, "cache");
                    errors.Add(source.Error(node, path, TranscriptChecks.NoCache));
                }
                foreach (var (stage, key, message) in TranscriptChecks.AccuracyOnlyStages(recipe))
                {
                    var (node, path) = source.Locate(stage, key);
                    errors.Add(source.Error(node, path, message));
                }
            }
            catch (InvalidInputException e)
            {
                var (node, path) = source.Locate(recipe.Data, recipe.Data.Vocab is null ? "path" : "vocab");
                errors.Add(source.Error(node, path, e.Message));
            }
        }
        if (errors.Count > 0 || recipe.Distill.Terms.Count == 0 || !recipe.HasTeacher) return errors;

        ProbeLossTerms(recipe, source, losses ?? LossRegistry.Default, errors);
        return errors;
    }

    /// <summary>The model's module paths, from a copy built on CPU and dropped; null (with an error) when it cannot be built.</summary>
    private static HashSet<string>? ModuleNamesOnMeta(ModelSpec spec, string role, RecipeSource source, List<RecipeError> errors)
    {
        // Built on CPU, not by switching torch's process-wide default device to meta (which made tensors that other
        // threads created meanwhile meta tensors); the global generator's state is put back so nothing else shifts.
        using var rng = torch.random.get_rng_state();
        try
        {
            using var model = ModelRegistry.Default.Get(spec.Model).Build(spec.Config!);
            return model.named_modules().Select(m => m.name).ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception e)
        {
            errors.Add(ConfigError(spec, role, source, $"the {role} cannot be built from this config: {ErrorText.Of(e)}"));
            return null;
        }
        finally
        {
            torch.random.set_rng_state(rng);
        }
    }

    private static RecipeError ConfigError(ModelSpec spec, string role, RecipeSource source, string message)
    {
        // A config from a HF folder or derived from the teacher is reported at the key that produced it.
        if (spec.Pretrained is not null || spec.InitFromTeacher is not null)
        {
            var (at, atPath) = source.Locate(spec, spec.Pretrained is not null ? "pretrained" : "init_from_teacher");
            return source.Error(at, atPath, message);
        }
        var (node, path) = source.Locate(spec, "config");
        if (path != $"{role}.config" || node is null || !source.TryGetSource(spec, out var specNode, out _)
            || YamlNodes.Find(specNode, "config").Value is null)
            (node, path) = source.Locate(spec, "model");
        return source.Error(node, path, message);
    }

    private static void ProbeLossTerms(Recipe recipe, RecipeSource source, LossRegistry losses, List<RecipeError> errors)
    {
        var inputs = DatasetRegistry.Default.Get(recipe.Data.Dataset).Inputs(recipe.Data);
        int? classes = null;
        if (recipe.Teacher.Pretrained is not null || recipe.Student.Pretrained is not null)
        {
            classes = NumClasses(recipe, source, errors);
            if (classes is null) return;
        }
        DistillModel? teacher = null, student = null;
        try
        {
            teacher = BuildOnCpu(recipe.Teacher, null, classes, "teacher", source, errors);
            if (teacher is null) return;
            student = BuildOnCpu(recipe.Student, teacher.Config, classes, "student", source, errors);
            if (teacher is null || student is null) return;
            var t = Probe(teacher, inputs, recipe, "teacher", source, errors);
            var s = Probe(student, inputs, recipe, "student", source, errors);
            if (t is null || s is null) return;
            var context = ShapeProbe.Context(student, teacher, s, t);

            foreach (var term in recipe.Distill.Terms)
            {
                try
                {
                    var built = losses.Create(term, context);
                    built.Trainable?.Dispose();
                }
                catch (LossConfigException e)
                {
                    var (node, path) = source.Locate(term, e.Key);
                    errors.Add(source.Error(node, path, ErrorText.Of(e)));
                }
                catch (NotImplementedException)
                {
                    var (node, path) = source.Locate(term, "kind");
                    errors.Add(source.Error(node, path, $"loss kind '{term.Kind}' is not available in this build (its implementation is missing)"));
                }
                catch (Exception e)
                {
                    var (node, path) = source.Locate(term, "kind");
                    errors.Add(source.Error(node, path,
                        $"loss term '{term.DisplayName}' cannot be built for this teacher/student pair: {ErrorText.Of(e)}"));
                }
            }
        }
        finally
        {
            teacher?.Dispose();
            student?.Dispose();
        }
    }

    /// <summary>
    /// The dataset's class count, which sizes the head of a <c>pretrained</c> model exactly as the run will (a folder
    /// whose head has another width gets a new head), so the loss terms are checked against the models the run trains.
    /// Reads the evaluation split.
    /// </summary>
    private static int? NumClasses(Recipe recipe, RecipeSource source, List<RecipeError> errors)
    {
        try
        {
            var data = DatasetRegistry.Default.Get(recipe.Data.Dataset).Open(recipe.Data, recipe.Data.EvalSplit);
            int n = data.NumClasses;
            (data as IDisposable)?.Dispose();
            return n;
        }
        catch (Exception e)
        {
            var (node, path) = source.Locate(recipe.Data, "dataset");
            errors.Add(source.Error(node, path,
                $"the {recipe.Data.EvalSplit} split cannot be opened to size the pretrained model's head: {e.Message}"));
            return null;
        }
    }

    /// <summary>Builds the model the run will build (pretrained heads sized to the data, init_from_teacher derived from
    /// <paramref name="teacherConfig"/>), with random weights: the probe needs shapes only.</summary>
    private static DistillModel? BuildOnCpu(ModelSpec spec, IModelConfig? teacherConfig, int? classes, string role,
        RecipeSource source, List<RecipeError> errors)
    {
        try
        {
            return ModelRegistry.Default.Get(spec.Model).Build(spec.EffectiveConfig(teacherConfig, classes, out _));
        }
        catch (Exception e)
        {
            errors.Add(ConfigError(spec, role, source, $"the {role} cannot be built from this config: {ErrorText.Of(e)}"));
            return null;
        }
    }

    /// <summary>The shape pass of one model; a model that cannot run on one example of the data is a config error.</summary>
    private static ModelShapes? Probe(DistillModel model, IReadOnlyList<InputSpec> inputs, Recipe recipe, string role,
        RecipeSource source, List<RecipeError> errors)
    {
        try
        {
            return ShapeProbe.Probe(model, inputs);
        }
        catch (Exception e)
        {
            var spec = role == "teacher" ? recipe.Teacher : recipe.Student;
            errors.Add(ConfigError(spec, role, source,
                $"the {role} cannot run on one example of the {recipe.Data.Dataset} data: {ErrorText.Of(e)}"));
            return null;
        }
    }
}
