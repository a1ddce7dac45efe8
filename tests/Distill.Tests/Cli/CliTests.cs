using System.Text.Json.Nodes;
using Distill.Tests.Recipes;
using Distill.Tests.Training;
using Xunit;

namespace Distill.Tests.Cli;

[Collection(SerialCollection.Name)]
public class CliTests
{
    private static string Fixture(string relative) => Path.Combine(TestPaths.RepoRoot, "tests", "Distill.Tests", "Fixtures", "recipes", relative);

    [Fact]
    public void HelpDocumentsEveryCommandAndOption()
    {
        var (exit, output, _) = CliRunner.Run("--help");
        Assert.Equal(0, exit);
        Assert.Contains("run", output);
        Assert.Contains("validate", output);
        var (runExit, runHelp, _) = CliRunner.Run("run", "--help");
        Assert.Equal(0, runExit);
        foreach (var option in new[] { "--out", "--set", "--resume" }) Assert.Contains(option, runHelp);
        Assert.Contains("--set", CliRunner.Run("validate", "--help").Out);
    }

    [Fact]
    public void UnknownCommandAndUnknownOptionAreInvalidInput()
    {
        Assert.Equal(2, CliRunner.Run("frobnicate").Exit);
        var (exit, _, err) = CliRunner.Run("validate", Fixture("valid/mnist_hint.yaml"), "--sett", "x=1");
        Assert.Equal(2, exit);
        Assert.Contains("Unknown option '--sett'", err);
        Assert.Equal(2, CliRunner.Run("run").Exit);
    }

    [Fact]
    public void ValidateAcceptsAValidRecipe()
    {
        var (exit, output, err) = CliRunner.Run("validate", Fixture("valid/mnist_hint.yaml"));
        Assert.True(exit == 0, err);
        Assert.Contains("valid", output);
    }

    [Fact]
    public void ValidateReportsEveryErrorWithFileLineColumnAndExitsTwo()
    {
        string path = Fixture("broken/several_errors.yaml");
        var (exit, _, err) = CliRunner.Run("validate", path);
        Assert.Equal(2, exit);
        var lines = err.Split('\n').Where(l => l.TrimStart().StartsWith(path + ":", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count >= 2, err);
        Assert.All(lines, l => Assert.Matches(@":\d+:\d+: [a-z_\[\]0-9.]+: ", l));
    }

    [Fact]
    public void BadOverrideIsReportedAtTheOverride()
    {
        var (exit, _, err) = CliRunner.Run("validate", Fixture("valid/mnist_hint.yaml"), "--set", "train.lr=fast");
        Assert.Equal(2, exit);
        Assert.Contains("--set train.lr=fast", err);
        Assert.Contains("train.lr", err);
    }

    [Fact]
    public void RunWritesSummaryAndRefusesANonEmptyRunFolder()
    {
        string dir = TestRecipes.TempDir();
        try
        {
            string[] args =
            [
                "run", Fixture("valid/mnist_hint.yaml"), "--out", dir,
                "--set", "data.train_limit=256", "--set", "data.eval_limit=100",
                "--set", "stages.0.train.epochs=1", "--set", "train.epochs=1", "--set", "train.batch_size=64",
                "--set", "stages.2.train.steps=3",
            ];
            var (exit, output, err) = CliRunner.Run(args);
            Assert.True(exit == 0, err + output);
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject();
            Assert.Equal(64, ((string)summary["recipe_sha256"]!).Length);
            var stages = summary["stages"]!.AsArray();
            Assert.Equal(["train_teacher", "baseline", "distill"], stages.Select(s => (string)s!["kind"]!));
            foreach (var s in stages)
            {
                foreach (var key in new[] { "name", "kind", "metrics", "params", "model_bytes", "wall_seconds" }) Assert.NotNull(s![key]);
                double acc = (double)s!["metrics"]!["accuracy"]!;
                Assert.InRange(acc, 0, 1);
                Assert.NotNull(s["metrics"]!["macro_f1"]);
            }
            Assert.Contains("distill", output);

            var again = CliRunner.Run(args);
            Assert.Equal(2, again.Exit);
            Assert.Contains("not empty", again.Err);
        }
        finally { TestRecipes.DeleteDir(dir); }
    }
}
