using System.ComponentModel;
using Distill.Recipes;
using Distill.Runs;
using Spectre.Console.Cli;

namespace Distill.Cli.Commands;

/// <summary><c>distill cache merge</c>: the N shards of a recipe's teacher cache merged into distill.cache.dir (<see cref="CacheBuildJob.Merge"/>).</summary>
public sealed class CacheMergeCommand : Command<CacheMergeCommand.Settings>
{
    public const string Summary = "merge the shards written by 'distill cache build --shard i/N' into the recipe's teacher cache";

    public const string Details = """
        Reads <distill.cache.dir>.shards/, checks that all N shards are there, from one build (the same N, teacher,
        data and layout), and writes their concatenation to distill.cache.dir: byte for byte what a single-process
        build writes. A missing shard, shards of different N or of different teachers/data are an error (exit 2)
        naming them, and nothing is written; the folder is assembled beside and renamed into place. The shards are
        kept (delete <dir>.shards yourself). 'distill run' merges them by itself when it finds them.
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<recipe.yaml>")]
        [Description("the recipe whose teacher cache to merge")]
        public string Recipe { get; init; } = "";

        [CommandOption("--set <KEY=VALUE>")]
        [Description("override a recipe value (repeatable), as for 'distill cache build'")]
        public string[]? Set { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var (recipe, errors) = RecipeValidation.Check(settings.Recipe, settings.Set ?? []);
        if (errors.Count > 0) return RecipeErrors.Report(errors, Console.Error);
        var manifest = CacheBuildJob.Merge(recipe!, settings.Recipe);
        Console.WriteLine($"merged {CacheBuildJob.CacheDir(recipe!, settings.Recipe)}: {manifest.Count:N0} examples, {manifest.Entries.Count} stored outputs");
        return ExitCodes.Success;
    }
}
