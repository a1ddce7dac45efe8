using Distill.Data;
using Distill.Hf;
using Distill.Models;
using Distill.Models.Cnn;
using Distill.Models.Mlp;
using Distill.Models.Wav2Vec2;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// Sizes classifier heads from the data: a teacher or student built from <c>config</c> whose config leaves out
/// <c>num_labels</c> (and <c>id2label</c>) gets the dataset's number of classes; one that gives a different number is
/// an error naming both numbers. The class count comes from <see cref="DatasetKind.ClassNames"/> (fixed for the
/// presets; the recipe's <c>labels</c>, the class folders or the training file's labels otherwise). Data that cannot be
/// read leaves the configs as they are: the input checks report it with the file and line.
/// <c>pretrained</c> heads are sized at build time (<see cref="ModelSpec.EffectiveConfig"/>); <c>init_from_teacher</c>
/// students take the teacher's head; CTC heads have no classes.
/// </summary>
internal static class NumLabelsResolver
{
    public static Recipe Resolve(Recipe recipe, RecipeSource source)
    {
        if (source.HasErrorsUnder("data") || !DatasetRegistry.Default.TryGet(recipe.Data.Dataset, out var kind) || kind.ClassNames is null) return recipe;
        IReadOnlyList<string> classes;
        try { classes = kind.ClassNames(recipe.Data); }
        catch (Exception e) when (e is InvalidInputException or IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException)
        {
            return recipe;
        }
        var teacher = ResolveOne(recipe.Teacher, "teacher", classes, recipe.Data.Dataset, source);
        var student = ResolveOne(recipe.Student, "student", classes, recipe.Data.Dataset, source);
        if (ReferenceEquals(teacher, recipe.Teacher) && ReferenceEquals(student, recipe.Student)) return recipe;
        var resolved = recipe with { Teacher = teacher, Student = student };
        if (source.TryGetSource(recipe, out var node, out var path)) source.Record(resolved, node, path);
        return resolved;
    }

    private static ModelSpec ResolveOne(ModelSpec spec, string role, IReadOnlyList<string> classes, string dataset, RecipeSource source)
    {
        if (spec.Pretrained is not null || spec.InitFromTeacher is not null || spec.Config is not { } config) return spec;
        if (!source.TryGetSource(spec, out var specNode, out var specPath) || source.HasErrorsUnder(specPath)) return spec;
        if (Count(spec.Model, config) is not { } have) return spec;
        var configNode = YamlNodes.Find(specNode, "config").Value;
        bool given = configNode is not null && new[] { "num_labels", "id2label", "label2id" }.Any(k => YamlNodes.Find(configNode, k).Value is { } v && !YamlNodes.IsNull(v));
        if (given)
        {
            if (have != classes.Count)
            {
                var (node, path) = source.Locate(config, YamlNodes.Find(configNode, "num_labels").Value is not null ? "num_labels" : "id2label");
                string names = classes.Count <= 12 ? $" ({string.Join(", ", classes)})" : "";
                source.Add(node, path,
                    $"the {role} has {have} labels but the {dataset} data has {classes.Count} classes{names}; remove num_labels to take the data's {classes.Count}, or make it {classes.Count}");
            }
            return spec;
        }
        if (have == classes.Count) return spec;
        var sized = With(spec.Model, config, classes.Count);
        if (configNode is not null && source.TryGetSource(config, out var cNode, out var cPath)) source.Record(sized, cNode, cPath);
        var resolved = spec with { Config = sized };
        source.Record(resolved, specNode, specPath);
        return resolved;
    }

    /// <summary>The width of the config's classifier head; null for a family without classes (a CTC head).</summary>
    private static int? Count(string family, IModelConfig config) => config switch
    {
        MlpConfig m => m.NumLabels,
        CnnConfig c => c.NumLabels,
        _ when HfArchitectureRegistry.Default.TryGetFamily(family, out var hf) && hf.HeadArchitecture(config) != Wav2Vec2Config.CtcArchitecture => hf.NumLabels(config),
        _ => null,
    };

    private static IModelConfig With(string family, IModelConfig config, int classes) => config switch
    {
        MlpConfig m => m with { NumLabels = classes },
        CnnConfig c => c with { NumLabels = classes },
        _ => HfArchitectureRegistry.Default.TryGetFamily(family, out var hf) ? hf.WithNumLabels(config, classes) : config,
    };
}
