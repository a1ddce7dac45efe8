using System.ComponentModel;
using Distill.Caching;
using Distill.Recipes;
using Distill.Runs;
using Spectre.Console.Cli;

namespace Distill.Cli.Commands;

/// <summary><c>distill cache build</c>: a recipe's teacher cache, or shard i of N of it, built without training (<see cref="CacheBuildJob"/>).</summary>
public sealed class CacheBuildCommand : Command<CacheBuildCommand.Settings>
{
    public const string Summary = "run the teacher over the training set and write the recipe's teacher cache (or shard i/N of it) into distill.cache.dir";

    public const string Details = """
        Builds what a distill stage's distill.cache would build when the run starts: the teacher's outputs the loss
        terms read, for every training example (the transfer set included), into distill.cache.dir (required here: a
        folder every job and the later run see). The teacher must exist before the run: teacher.pretrained or
        teacher.checkpoint. A progress line (examples, examples/s, ETA) goes to stdout.

        --shard i/N builds only shard i (0-based) of N into <dir>.shards/shard-i-of-N/: the examples are taken in windows
        of 16 teacher batches, and shard i gets the i-th of N runs of consecutive windows. Start N such jobs (a Slurm
        array, a Kubernetes Indexed Job), then 'distill cache merge' the recipe, or just 'distill run' it: a run that
        finds the shards merges them. The merged cache is byte for byte the single-process build. Student training
        stays one process.
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<recipe.yaml>")]
        [Description("the recipe whose distill stage's teacher cache to build")]
        public string Recipe { get; init; } = "";

        [CommandOption("--shard <I/N>")]
        [Description("build only shard I of N (0 <= I < N), e.g. --shard $SLURM_ARRAY_TASK_ID/8 or --shard $JOB_COMPLETION_INDEX/8")]
        public string? Shard { get; init; }

        [CommandOption("--stage <NAME>")]
        [Description("the distill stage whose cache to build (default: the first distill stage)")]
        public string? Stage { get; init; }

        [CommandOption("--set <KEY=VALUE>")]
        [Description("override a recipe value (repeatable), as 'distill run' takes it; give the run the same --set")]
        public string[]? Set { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        CacheShard? shard;
        try { shard = settings.Shard is null ? null : CacheShard.Parse(settings.Shard); }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        var overrides = settings.Set ?? [];
        var (recipe, errors) = RecipeValidation.Check(settings.Recipe, overrides);
        if (errors.Count > 0) return RecipeErrors.Report(errors, Console.Error);
        var outcome = CacheBuildJob.Build(recipe!, settings.Recipe, RecipeHash.Compute(settings.Recipe, overrides), shard, settings.Stage, Console.Out);
        Console.WriteLine(shard is not null
            ? $"shard {shard} written to {outcome.Folder}"
            : outcome.Built
                ? $"teacher cache built in {outcome.Folder}: {outcome.Examples:N0} examples{(outcome.ExamplesPerSecond is { } eps ? $", {eps:F1} examples/s" : "")}"
                : $"teacher cache in {outcome.Folder} is up to date ({outcome.Examples:N0} examples)");
        return ExitCodes.Success;
    }
}
