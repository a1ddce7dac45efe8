using Distill.Hf;
using Distill.Models;
using Distill.Models.Init;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// Fills <see cref="ModelSpec.Model"/> and <see cref="ModelSpec.Config"/> of specs that give <c>pretrained</c> (from the
/// HF folder's config.json) or <c>init_from_teacher</c> (the teacher's config with the selected layers and sizes), right
/// after binding, so every later check and the run see a complete spec. Reports, at their keys: a spec with neither
/// <c>model</c>, <c>pretrained</c> nor <c>init_from_teacher</c>; <c>pretrained</c> together with <c>config</c>,
/// <c>checkpoint</c> or <c>init_from_teacher</c>; a <c>model</c> that disagrees with the folder or the teacher; an
/// unreadable or unsupported folder; <c>init_from_teacher</c> on the teacher, for an unsupported family, or with
/// layers/sizes that do not fit the teacher; and a student built from the teacher before the teacher exists.
/// </summary>
internal static class ModelSpecResolver
{
    public static Recipe Resolve(Recipe recipe, RecipeSource source)
    {
        var teacher = ResolveOne(recipe.Teacher, "teacher", source, null);
        var student = ResolveOne(recipe.Student, "student", source, teacher);
        CheckStudentAfterTeacher(recipe, student, source);
        if (ReferenceEquals(teacher, recipe.Teacher) && ReferenceEquals(student, recipe.Student)) return recipe;
        var resolved = recipe with { Teacher = teacher, Student = student };
        if (source.TryGetSource(recipe, out var node, out var path)) source.Record(resolved, node, path);
        return resolved;
    }

    private static ModelSpec ResolveOne(ModelSpec spec, string role, RecipeSource source, ModelSpec? teacher)
    {
        if (!source.TryGetSource(spec, out var specNode, out var specPath)) return spec;
        bool Has(string key) => YamlNodes.Find(specNode, key).Value is { } v && !YamlNodes.IsNull(v);
        bool hasModel = Has("model"), hasConfig = Has("config"), hasCheckpoint = Has("checkpoint");
        bool hasPretrained = Has("pretrained"), hasInit = Has("init_from_teacher");
        int errorsBefore = source.Errors.Count;
        void Error(string key, string message)
        {
            var (node, path) = source.Locate(spec, key);
            source.Add(node, path, message);
        }

        if (!hasModel && !hasPretrained && !hasInit)
        {
            if (!source.HasErrorsUnder(KeyPaths.Child(specPath, "model")))
                source.Add(specNode, KeyPaths.Child(specPath, "model"),
                    $"missing required key 'model' (a model family: {string.Join(", ", ModelRegistry.Default.Keys.Order())}); " +
                    (role == "student" ? "or give 'pretrained: <hf-folder>' or 'init_from_teacher:'" : "or give 'pretrained: <hf-folder>'"));
            return spec;
        }
        if (hasPretrained)
        {
            if (hasConfig) Error("config", $"{role}.pretrained and {role}.config are both given: the config comes from the folder's config.json; remove {role}.config (or remove pretrained to build the model from model + config)");
            if (hasCheckpoint) Error("checkpoint", $"{role}.pretrained and {role}.checkpoint are both given: both set the weights; keep one (pretrained for a HF folder, checkpoint for a Distill checkpoint)");
            if (hasInit && role == "student") Error("init_from_teacher", "student.pretrained and student.init_from_teacher are both given: both set the weights; keep one");
        }
        if (hasInit)
        {
            if (role == "teacher") Error("init_from_teacher", "only the student can be initialised from the teacher; remove teacher.init_from_teacher");
            if (hasConfig) Error("config", "student.config cannot be given with student.init_from_teacher: the student's config is the teacher's with the layers and sizes under init_from_teacher (hidden_size, num_attention_heads, intermediate_size); remove student.config");
            if (hasCheckpoint) Error("checkpoint", "student.checkpoint and student.init_from_teacher are both given: both set the weights; keep one");
        }
        if (source.Errors.Count > errorsBefore || source.HasErrorsUnder(specPath)) return spec;

        if (hasPretrained) return ResolvePretrained(spec, role, hasModel, source, Error);
        if (hasInit && teacher is not null) return ResolveInit(spec, hasModel, teacher, source, Error);
        return spec;
    }

    private static ModelSpec ResolvePretrained(ModelSpec spec, string role, bool hasModel, RecipeSource source, Action<string, string> error)
    {
        HfPretrainedInfo info;
        try { info = HfPretrained.Inspect(spec.Pretrained!); }
        catch (HfFolderException e)
        {
            error("pretrained", $"{e.Message}");
            return spec;
        }
        if (hasModel && spec.Model != info.Family.Family)
        {
            error("model", $"{role}.model is '{spec.Model}' but {role}.pretrained holds a '{info.Family.Family}' model (model_type '{info.Family.ModelType}'); remove {role}.model or make it '{info.Family.Family}'");
            return spec;
        }
        if (!ModelRegistry.Default.TryGet(info.Family.Family, out _))
        {
            error("pretrained", $"{info.Folder} holds a '{info.Family.Family}' model, which this build cannot train (no such model family)");
            return spec;
        }
        var (pretrainedNode, pretrainedPath) = source.Locate(spec, "pretrained");
        if (pretrainedNode is not null) source.Record(info.Config, pretrainedNode, pretrainedPath);
        var resolved = spec with { Model = info.Family.Family, Config = info.Config };
        Rerecord(spec, resolved, source);
        return resolved;
    }

    private static ModelSpec ResolveInit(ModelSpec spec, bool hasModel, ModelSpec teacher, RecipeSource source, Action<string, string> error)
    {
        if (teacher.Config is not { } teacherConfig || teacher.Model.Length == 0 || source.HasErrorsUnder("teacher")) return spec;
        var init = spec.InitFromTeacher!;
        if (!StudentInitRegistry.Default.TryGet(teacher.Model, out var rules))
        {
            error("init_from_teacher", $"init_from_teacher is available for {string.Join(", ", StudentInitRegistry.Default.Families)} teachers, not '{teacher.Model}'; give student.model and student.config instead");
            return spec;
        }
        if (hasModel && spec.Model != teacher.Model)
        {
            error("model", $"student.model is '{spec.Model}' but init_from_teacher makes the student a '{teacher.Model}' like the teacher; remove student.model or make it '{teacher.Model}'");
            return spec;
        }
        var problems = rules.Validate(teacherConfig, init).ToList();
        foreach (var (key, message) in problems)
        {
            var (node, path) = source.Locate(init, key);
            source.Add(node, path, message);
        }
        if (problems.Count > 0) return spec;
        var config = rules.DeriveConfig(teacherConfig, init);
        if (source.TryGetSource(init, out var initNode, out var initPath)) source.Record(config, initNode, initPath);
        var resolved = spec with { Model = teacher.Model, Config = config };
        Rerecord(spec, resolved, source);
        return resolved;
    }

    private static void Rerecord(ModelSpec original, ModelSpec resolved, RecipeSource source)
    {
        if (source.TryGetSource(original, out var node, out var path)) source.Record(resolved, node, path);
    }

    /// <summary>A student initialised from the teacher cannot be built by a stage that runs before any teacher exists.</summary>
    private static void CheckStudentAfterTeacher(Recipe recipe, ModelSpec student, RecipeSource source)
    {
        if (student.InitFromTeacher is null || recipe.Teacher.Pretrained is not null || recipe.Teacher.Checkpoint is not null) return;
        foreach (var stage in recipe.Stages)
        {
            if (stage is TrainTeacherStageSpec) return;
            if (stage is BaselineStageSpec)
            {
                var (node, path) = source.Locate(stage, "kind");
                source.Add(node, path,
                    $"stage '{stage.DisplayName}' builds the student, which student.init_from_teacher initialises from the teacher, but no teacher exists yet: move it after the train_teacher stage, or give teacher.pretrained or teacher.checkpoint");
            }
        }
    }
}
