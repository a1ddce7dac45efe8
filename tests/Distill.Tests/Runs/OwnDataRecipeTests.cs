using Distill.Models.Cnn;
using Distill.Recipes;
using Xunit;

namespace Distill.Tests.Runs;

/// <summary>Recipe checks for your own data: no teacher for baseline-only recipes, heads sized from the data, data keys only where they are read.</summary>
[Collection(SerialCollection.Name)] // the validator builds models on the meta device (process-wide default)
public sealed class OwnDataRecipeTests : IDisposable
{
    private readonly OwnData _data = new(train: 2, eval: 1);

    public void Dispose() => _data.Dispose();

    [Fact]
    public void ABaselineOnlyRecipeNeedsNoTeacherAndTakesTheDatasetsClassCount()
    {
        var (recipe, errors) = RecipeValidation.Check(_data.Recipe());
        Assert.Empty(errors);
        Assert.False(recipe!.HasTeacher);
        Assert.Equal(3, ((CnnConfig)recipe.Student.Config!).NumLabels); // three class folders; the CNN default is 10
        Assert.Equal(["validation", "test"], recipe.Data.EvalSplits);
        Assert.Equal("validation", recipe.Data.EvalSplit);
    }

    [Fact]
    public void AGivenNumLabelsThatDiffersFromTheDataNamesBothNumbers()
    {
        var result = RecipeLoader.Load(_data.Recipe(student: "{in_channels: 1, image_size: 8, channels: [4], hidden_size: 8, num_labels: 10}"));
        var e = Assert.Single(result.Errors);
        Assert.Equal("student.config.num_labels", e.KeyPath);
        Assert.Contains("the student has 10 labels but the image_folder data has 3 classes (bottom, middle, top)", e.Message);
        Assert.True(RecipeLoader.Load(_data.Recipe(student: "{in_channels: 1, image_size: 8, channels: [4], hidden_size: 8, num_labels: 3}")).Succeeded);
    }

    [Fact]
    public void StagesThatNeedATeacherAreRefusedWithoutOne()
    {
        var result = RecipeLoader.Load(_data.Recipe(stages: "- kind: train_teacher\n- kind: baseline"));
        var e = Assert.Single(result.Errors);
        Assert.Equal("stages[0].kind", e.KeyPath);
        Assert.Contains("needs a teacher, and the recipe has no teacher section", e.Message);
    }

    [Fact]
    public void DataKeysOfOtherKindsAndBothEvalSplitKeysAreErrors()
    {
        var result = RecipeLoader.Load(_data.Recipe(data: "  text_column: sentence\n  eval_split: test"));
        Assert.Contains(result.Errors, e => e.KeyPath == "data.text_column" && e.Message.Contains("the image_folder dataset does not read text_column (it is for sst2, text_classification)"));
        Assert.Contains(result.Errors, e => e.KeyPath == "data.eval_splits" && e.Message.Contains("eval_split and eval_splits are both given"));
        result = RecipeLoader.Load(_data.Recipe(data: "  rename_columns: {content: sentence}\n  text_unescape: ptb"));
        Assert.Contains(result.Errors, e => e.KeyPath == "data.rename_columns" && e.Message.Contains("does not read rename_columns (it is for text_classification)"));
        Assert.Contains(result.Errors, e => e.KeyPath == "data.text_unescape" && e.Message.Contains("does not read text_unescape (it is for text_classification)"));
        result = RecipeLoader.Load(_data.Recipe(data: "  text_unescape: html"));
        Assert.Contains(result.Errors, e => e.KeyPath == "data.text_unescape" && e.Message.Contains("ptb"));
        result = RecipeLoader.Load(_data.Recipe(data: "  labels: [a, a]"));
        Assert.Contains(result.Errors, e => e.KeyPath == "data.labels[1]" && e.Message.Contains("listed twice"));
    }
}
