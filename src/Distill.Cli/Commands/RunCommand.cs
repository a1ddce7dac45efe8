using System.ComponentModel;
using Distill.Recipes;
using Distill.Runs;
using Distill.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Distill.Cli.Commands;

/// <summary><c>distill run</c>: validate the recipe, then run its stages in a run folder.</summary>
public sealed class RunCommand : Command<RunCommand.Settings>
{
    public const string Summary = "run a recipe's stages (train teacher, baseline, distill, ...) and write summary.json";

    public const string Details = """
        Validates the recipe (as 'distill validate'), then runs its stages in order. The run folder holds
        summary.json (per-stage metrics, parameters, bytes, wall time), models/<stage>/ (final weights),
        checkpoints/<stage>/{last,best}/ and tb/<stage>/ (TensorBoard: tensorboard --logdir <run-dir>/tb).

        One process per run folder (an OS lock on <run-dir>/.lock); a second run or --resume on it exits 2.
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<recipe.yaml>")]
        [Description("the recipe to run")]
        public string Recipe { get; init; } = "";

        [CommandOption("--out <DIR>")]
        [Description("run folder (default: the recipe's output.dir, else runs/<recipe name>)")]
        public string? Out { get; init; }

        [CommandOption("--set <KEY=VALUE>")]
        [Description("override a recipe value (repeatable), type-checked like the file, e.g. --set train.lr=0.001")]
        public string[]? Set { get; init; }

        [CommandOption("--resume")]
        [Description("continue a stopped run in the same folder: completed stages are kept, the stage in progress restarts from its last checkpoint (same recipe and --set needed, except --set of train.lr, train.grad_clip, train.max_loss, train.loss_spike and their stages.N.train.* forms, which may change: e.g. a lower lr after divergence)")]
        public bool Resume { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string recipePath = settings.Recipe;
        var overrides = settings.Set ?? [];
        var (recipe, errors) = RecipeValidation.Check(recipePath, overrides);
        if (errors.Count > 0) return RecipeErrors.Report(errors, Console.Error);
        foreach (var warning in RecipeWarnings.For(recipe!)) Console.Error.WriteLine($"warning: {warning}");

        string runDir = Path.GetFullPath(settings.Out
                                         ?? recipe!.Output.Dir
                                         ?? Path.Combine("runs", Path.GetFileNameWithoutExtension(recipePath)));
        bool tty = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 160; // logs and pipes: keep the table's columns whole
        try
        {
            RunSummary summary;
            if (tty)
            {
                summary = null!;
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx => summary = Executor(recipe!, recipePath, overrides, runDir, settings.Resume,
                        stage => [new TerminalProgress(ctx, stage)]).Execute());
            }
            else
            {
                summary = Executor(recipe!, recipePath, overrides, runDir, settings.Resume,
                    stage => [new PlainProgress(stage, recipe!.Train.LogEvery, Console.Out)]).Execute();
            }
            SummaryTable.Print(summary, runDir);
            return ExitCodes.Success;
        }
        catch (TrainingStoppedException e)
        {
            Console.Error.WriteLine($"error: {ErrorText.Of(e)}");
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is not InvalidInputException && Environment.GetEnvironmentVariable("DISTILL_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: the run failed: {ErrorText.Of(e)}\n(set DISTILL_DEBUG=1 for the stack trace)");
            return ExitCodes.Failure;
        }
    }

    private static RunExecutor Executor(Recipe recipe, string recipePath, IReadOnlyList<string> overrides, string runDir, bool resume,
        Func<string, IEnumerable<ITrainerCallback>> progress) => new()
    {
        Recipe = recipe,
        RecipePath = recipePath,
        RecipeSha256 = RecipeHash.Compute(recipePath, overrides),
        ResumeSha256 = RecipeHash.ComputeForResume(recipePath, overrides),
        ResumeOverrides = overrides.Where(RecipeHash.IsResumeChangeable).ToList(),
        RunDir = runDir,
        Resume = resume,
        ExtraCallbacks = progress,
        Log = Console.Out,
        OnStageDone = r => Console.WriteLine($"[{r.Name}] done in {r.WallSeconds:0.0} s: {ProgressText.Metrics(r.Metrics)}"),
    };
}
