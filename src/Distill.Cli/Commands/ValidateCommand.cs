using System.ComponentModel;
using Distill.Stages;
using Distill.Recipes;
using Distill.Runs;
using Spectre.Console.Cli;

namespace Distill.Cli.Commands;

/// <summary><c>distill validate</c>: every check <c>run</c> makes before training, and nothing else; writes nothing.</summary>
public sealed class ValidateCommand : Command<ValidateCommand.Settings>
{
    public const string Summary = "check a recipe (keys, types, ranges, files, module paths, hint shapes) without running it";

    public const string Details = """
        Checks the whole recipe as 'distill run' would before training: unknown keys, wrong types, out-of-range
        values, missing files, unknown model/loss/stage/dataset kinds, module paths the models do not have, and hint
        pairs whose shapes cannot be projected. All errors are printed at once as file:line:col: key.path: message.
        Then the input files, as 'run' checks them before it creates the run folder: the data splits are read and
        verified (gzip CRC, IDX/record sizes, labels), pretrained weights' headers checked against the files (a
        pytorch_model.bin through the restricted unpickler), a teacher.checkpoint verified. Nothing is written.
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<recipe.yaml>")]
        [Description("the recipe to check")]
        public string Recipe { get; init; } = "";

        [CommandOption("--set <KEY=VALUE>")]
        [Description("override a recipe value (repeatable), type-checked like the file, e.g. --set train.lr=0.001 --set stages.1.train.epochs=2")]
        public string[]? Set { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var (recipe, errors) = RecipeValidation.Check(settings.Recipe, settings.Set ?? []);
        if (errors.Count > 0) return RecipeErrors.Report(errors, Console.Error);
        using (RunInputs.Check(recipe!)) { } // data files and weights, as 'run' checks them before it writes anything
        foreach (var warning in RecipeWarnings.For(recipe!)) Console.Error.WriteLine($"warning: {warning}");
        Console.WriteLine($"{settings.Recipe}: valid. Stages: {string.Join(" → ", recipe!.Stages.Select(s => $"{s.DisplayName} ({s.Kind})"))}.");
        return ExitCodes.Success;
    }
}
