using Distill.Recipes;
using Distill.Runs;

namespace Distill.Cli.Commands;

/// <summary><c>distill validate</c>: every check <c>run</c> makes before training, and nothing else; writes nothing.</summary>
public sealed class ValidateCommand : ICommand
{
    public string Name => "validate";

    public string Summary => "check a recipe (keys, types, ranges, files, module paths, hint shapes) without running it";

    public string Help => """
        Usage: distill validate <recipe.yaml> [--set key.path=value]...

        Checks the whole recipe as 'distill run' would before training: unknown keys, wrong types, out-of-range
        values, missing files, unknown model/loss/stage/dataset kinds, module paths the models do not have, and hint
        pairs whose shapes cannot be projected. All errors are printed at once as file:line:col: key.path: message.
        Then the input files, as 'run' checks them before it creates the run folder: the data splits are read and
        verified (gzip CRC, IDX/record sizes, labels), pretrained weights' headers checked against the files (a
        pytorch_model.bin through the restricted unpickler), a teacher.checkpoint verified. Nothing is written.

        Options:
          --set key.path=value   override a recipe value (repeatable), type-checked like the file,
                                 e.g. --set train.lr=0.001 --set stages.1.train.epochs=2
          -h, --help             show this help

        Exit codes: 0 valid, 2 invalid (recipe or input files).
        """;

    public int Execute(IReadOnlyList<string> args)
    {
        var parsed = ParsedArgs.Parse(args, new HashSet<string> { "--set" }, new HashSet<string>());
        if (parsed.Positionals.Count != 1) throw new UsageException("validate takes exactly one recipe file.");
        var (recipe, errors) = RecipeValidation.Check(parsed.Positionals[0], parsed.All("--set"));
        if (errors.Count > 0) return RecipeErrors.Report(errors, Console.Error);
        using (RunInputs.Check(recipe!)) { } // data files and weights, as 'run' checks them before it writes anything
        Console.WriteLine($"{parsed.Positionals[0]}: valid. Stages: {string.Join(" → ", recipe!.Stages.Select(s => $"{s.DisplayName} ({s.Kind})"))}.");
        return ExitCodes.Success;
    }
}
