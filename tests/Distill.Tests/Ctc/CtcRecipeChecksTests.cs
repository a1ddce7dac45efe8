using Distill.Recipes;
using Distill.Tests.Training;
using Distill.Training;
using Xunit;

namespace Distill.Tests.Ctc;

[Collection(SerialCollection.Name)]
public sealed class CtcRecipeChecksTests
{
    private static IReadOnlyList<RecipeError> Check(string root, params string[] overrides)
    {
        CtcRecipes.TinyRun(root); // writes ctc.yaml (and checks that it validates as written)
        return RecipeValidation.Check(Path.Combine(root, "ctc.yaml"), overrides).Errors;
    }

    [Fact]
    public void AVocabSizeOtherThanTheVocabularysIsAnErrorAtTheConfig()
    {
        string root = TestRecipes.TempDir();
        try
        {
            var errors = Check(root, "student.config.vocab_size=32");
            var e = Assert.Single(errors);
            Assert.Contains("student.config", e.ToString());
            Assert.Contains("vocab_size is 32 but the data's character vocabulary has 20 tokens", e.ToString());
            Assert.Contains("set vocab_size: 20", e.ToString());
        }
        finally { TestRecipes.DeleteDir(root); }
    }

    [Fact]
    public void AClassificationHeadOnTranscriptsIsAnError()
    {
        string root = TestRecipes.TempDir();
        try
        {
            var errors = Check(root, "teacher.config.architectures=[Wav2Vec2ForSequenceClassification]");
            Assert.Contains(errors, e => e.ToString().Contains("the teacher needs a CTC head") && e.ToString().Contains("teacher.config"));
        }
        finally { TestRecipes.DeleteDir(root); }
    }

    [Fact]
    public void TheTeacherCacheIsRefusedOnTranscripts()
    {
        string root = TestRecipes.TempDir();
        try
        {
            CtcRecipes.TinyRun(root);
            string path = Path.Combine(root, "ctc.yaml");
            File.WriteAllText(path, File.ReadAllText(path).Replace("distill:\n  terms:", "distill:\n  cache: {encoding: fp32}\n  terms:"));
            var e = Assert.Single(RecipeValidation.Check(path).Errors);
            Assert.Contains("distill.cache", e.ToString());
            Assert.Contains("not supported on transcript (CTC) data", e.ToString());
        }
        finally { TestRecipes.DeleteDir(root); }
    }

    [Fact]
    public void AccuracySearchesAreRefusedOnTranscripts()
    {
        string root = TestRecipes.TempDir();
        try
        {
            CtcRecipes.TinyRun(root);
            string path = Path.Combine(root, "ctc.yaml");
            string text = File.ReadAllText(path);
            Assert.EndsWith("  - kind: distill", text.TrimEnd()); // stages is the last section
            File.WriteAllText(path, text.TrimEnd() + "\n  - {kind: quantize, method: kmeans, max_accuracy_drop: 1}\n");
            var e = Assert.Single(RecipeValidation.Check(path).Errors);
            Assert.Contains("stages[3].max_accuracy_drop", e.ToString());
            Assert.Contains("scored by WER", e.ToString());
        }
        finally { TestRecipes.DeleteDir(root); }
    }

    [Fact]
    public void WerRanksLowerAsBetterAndAccuracyHigher()
    {
        Assert.Equal(("wer", false), EvalMetrics.Primary(new Dictionary<string, double> { ["wer"] = 0.5, ["cer"] = 0.2, ["loss"] = 3 }));
        Assert.Equal(("accuracy", true), EvalMetrics.Primary(new Dictionary<string, double> { ["accuracy"] = 0.5, ["loss"] = 3 }));
        Assert.True(EvalMetrics.IsBetter(0.4, 0.5, higherIsBetter: false));
        Assert.False(EvalMetrics.IsBetter(0.6, 0.5, higherIsBetter: false));
        Assert.False(EvalMetrics.IsBetter(0.5, 0.5, higherIsBetter: false)); // ties keep the earlier checkpoint
        Assert.True(EvalMetrics.IsBetter(0.9, double.NaN, higherIsBetter: false));
        Assert.True(EvalMetrics.IsBetter(0.6, 0.5, higherIsBetter: true));
    }
}
