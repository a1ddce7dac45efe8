using Distill.Onnx;
using Distill.Recipes;
using Distill.Tests.Onnx;
using Xunit;

namespace Distill.Tests.Recipes;

/// <summary>
/// Every recipe shipped in <c>recipes/</c> passes the full pre-flight check that <c>distill run</c> performs
/// (<see cref="RecipeValidation.Check"/>: binding, dataset files, module paths, one-example shape probe of both models
/// and of every loss term), runs on the data shipped in <c>data/</c>, and produces the three numbers a recipe
/// reports: teacher, baseline student and distilled student. Nothing is trained here.
/// </summary>
[Collection(SerialCollection.Name)]
public class ShippedRecipesTests
{
    private static readonly string RecipesDir = Path.Combine(TestPaths.RepoRoot, "recipes");

    /// <summary>Recipes whose models come from <c>models/Models.proj</c> (absent from a plain clone), with the package
    /// that carries each: validated by <see cref="RecipesOnPackagedModelsPassValidation"/> against a fresh import.</summary>
    private static readonly Dictionary<string, (string Package, string Folder)> OnPackagedModels = new(StringComparer.Ordinal)
    {
        ["minilm-sst2.yaml"] = (PackagedModels.MiniLm, "all-MiniLM-L6-v2"),
    };

    public static TheoryData<string> Recipes()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(RecipesDir, "*.yaml").Order(StringComparer.Ordinal))
            if (!OnPackagedModels.ContainsKey(Path.GetFileName(file))) data.Add(Path.GetFileName(file));
        return data;
    }

    /// <summary>
    /// The recipes on the pretrained models, checked as <c>distill validate</c> checks them after
    /// <c>dotnet build models/Models.proj</c>: the recipe in a copy of the repository layout (recipes/, data/ linked,
    /// models/&lt;name&gt;/ imported from the package now), so its relative paths resolve as in a clone.
    /// </summary>
    [PackagedModelFact(PackagedModels.MiniLm)]
    public void RecipesOnPackagedModelsPassValidation()
    {
        foreach (var (file, (package, folder)) in OnPackagedModels)
        {
            string root = Path.Combine(Path.GetTempPath(), $"distill-recipe-{Guid.NewGuid():N}");
            try
            {
                Directory.CreateDirectory(Path.Combine(root, "recipes"));
                Directory.CreateDirectory(Path.Combine(root, "models", "onnx"));
                Directory.CreateSymbolicLink(Path.Combine(root, "data"), Path.Combine(TestPaths.RepoRoot, "data"));
                string recipePath = Path.Combine(root, "recipes", file);
                File.Copy(Path.Combine(RecipesDir, file), recipePath);
                string onnx = Path.Combine(root, "models", "onnx", "model.onnx"), vocab = Path.Combine(root, "models", "onnx", "vocab.txt");
                File.WriteAllBytes(onnx, PackagedModels.Resource(package, "model.onnx"));
                File.WriteAllBytes(vocab, PackagedModels.Resource(package, "vocab.txt"));
                OnnxBertImporter.Import(onnx, Path.Combine(root, "models", folder), vocab);

                var (recipe, errors) = RecipeValidation.Check(recipePath);
                Assert.True(errors.Count == 0, $"{file}:\n" + string.Join("\n", errors));
                Assert.Equal(Path.Combine(root, "models", folder), Path.GetFullPath(recipe!.Teacher.Pretrained!));
                Assert.Contains("distill", recipe.Stages.Select(s => s.Kind));
            }
            finally
            {
                // The link first, on its own: a recursive delete must never reach the repository's data/.
                string link = Path.Combine(root, "data");
                if (Directory.Exists(link)) Directory.Delete(link);
                Directory.Delete(root, recursive: true);
            }
        }
    }

    [Fact]
    public void TheRecipesOfTheRealDatasetsAreShipped()
    {
        var names = Directory.EnumerateFiles(RecipesDir, "*.yaml").Select(Path.GetFileName).ToHashSet();
        foreach (var expected in new[] { "quickstart.yaml", "bert-sst2.yaml", "vit-cifar10.yaml", "wav2vec2-fsdd.yaml" })
            Assert.Contains(expected, names);
    }

    [Theory]
    [MemberData(nameof(Recipes))]
    public void PassesValidation(string file)
    {
        var (recipe, errors) = RecipeValidation.Check(Path.Combine(RecipesDir, file));
        Assert.True(errors.Count == 0, $"{file}:\n" + string.Join("\n", errors));
        Assert.NotNull(recipe);
    }

    /// <summary>The recipes whose job is the teacher / baseline / distilled comparison (compression and design recipes
    /// have other stages).</summary>
    public static TheoryData<string> ComparisonRecipes() =>
        ["quickstart.yaml", "vit-mnist-tinybert.yaml", "bert-sst2.yaml", "vit-cifar10.yaml", "wav2vec2-fsdd.yaml"];

    [Theory]
    [MemberData(nameof(ComparisonRecipes))]
    public void UsesTheShippedDataAndReportsTeacherBaselineAndDistilledStudent(string file)
    {
        var (recipe, errors) = RecipeValidation.Check(Path.Combine(RecipesDir, file));
        Assert.True(errors.Count == 0, $"{file}:\n" + string.Join("\n", errors));
        string shipped = Path.GetFullPath(Path.Combine(TestPaths.RepoRoot, "data")) + Path.DirectorySeparatorChar;
        Assert.StartsWith(shipped, Path.GetFullPath(recipe!.Data.Path) + Path.DirectorySeparatorChar);
        if (recipe.Data.Tokenizer is { } tokenizer) Assert.StartsWith(shipped, Path.GetFullPath(tokenizer) + Path.DirectorySeparatorChar);

        var kinds = recipe.Stages.Select(s => s.Kind).ToList();
        Assert.True(recipe.Teacher.Checkpoint is not null || kinds.Contains("train_teacher"), $"{file}: no teacher (train_teacher stage or teacher.checkpoint)");
        Assert.Contains("baseline", kinds);
        Assert.Contains("distill", kinds);
        Assert.NotEmpty(recipe.Distill.Terms);
    }

    /// <summary>recipes/bert-sst2-heads.yaml reports its distill accuracy as comparable with bert-sst2's: its models,
    /// data, loss terms and training settings must stay byte-identical to that recipe's, and its prune stage must be the
    /// structured head + FFN pruning its header describes.</summary>
    [Fact]
    public void BertHeadsRecipe_IsTheBertSst2PipelineFollowedByStructuredHeadAndFfnPruning()
    {
        static string Sections(string file)
        {
            string text = File.ReadAllText(Path.Combine(RecipesDir, file)).ReplaceLineEndings("\n");
            int start = text.IndexOf("\nteacher:", StringComparison.Ordinal), end = text.IndexOf("\nstages:", StringComparison.Ordinal);
            Assert.True(start >= 0 && end > start, $"{file}: no teacher ... stages sections");
            return text[start..end];
        }
        Assert.Equal(Sections("bert-sst2.yaml"), Sections("bert-sst2-heads.yaml"));

        var loaded = RecipeLoader.Load(Path.Combine(RecipesDir, "bert-sst2-heads.yaml"));
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        var recipe = loaded.Recipe!;
        Assert.Equal(["train_teacher", "distill", "prune"], recipe.Stages.Select(s => s.Kind).ToList());
        var prune = recipe.Stages.OfType<Distill.Recipes.PruneStageSpec>().Single();
        Assert.Equal(Distill.Compression.Pruning.PruneMethod.Structured, prune.Method);
        Assert.Equal([Distill.Models.Pruning.PruneUnit.Heads, Distill.Models.Pruning.PruneUnit.Ffn], prune.Units);
        Assert.Equal(Distill.Compression.Pruning.UnitScore.Taylor, prune.Score);
        Assert.True(prune.FineTune);
        Assert.NotEqual(Distill.Compression.FineTuneObjective.Ce, prune.Objective);
    }
}
