using System.ComponentModel;
using System.Globalization;
using Distill.Design;
using Distill.Recipes;
using Distill.Stages;
using Spectre.Console.Cli;

namespace Distill.Cli.Commands;

/// <summary>
/// <c>distill profile</c>: times the candidate students of a recipe's design stage on this machine, caches the
/// measurements under the device fingerprint, fits the latency model and reports its held-out error.
/// </summary>
public sealed class ProfileCommand : Command<ProfileCommand.Settings>
{
    public const string Summary = "time a design stage's candidate students on this device and fit the latency model";

    public const string Details = """
        Times the candidate students of the recipe's design stage (search space, deployment shape and timing
        protocol as in the recipe) on this machine, caches every measurement in the profile of this device's
        fingerprint (CPU model or GPU name, threads, TorchSharp and libtorch versions), fits the per-block latency
        model and reports its median absolute percentage error on points held out from the fit (k-fold). Cached
        measurements are reused: a second run times nothing new, another machine starts its own profile.
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<recipe.yaml>")]
        [Description("a recipe with a 'kind: design' stage")]
        public string Recipe { get; init; } = "";

        [CommandOption("--stage <NAME>")]
        [Description("the design stage to profile (default: the first one)")]
        public string? Stage { get; init; }

        [CommandOption("--set <KEY=VALUE>")]
        [Description("override a recipe value (repeatable), type-checked like the file")]
        public string[]? Set { get; init; }

        [CommandOption("--all")]
        [Description("also time every remaining candidate and report the error of the model fitted on the sample when predicting them (a true out-of-sample test; slow for big spaces)")]
        public bool All { get; init; }

        [CommandOption("--profile-dir <DIR>")]
        [Description("where profiles are stored (default: the stage's 'profile:', else ~/.cache/distill/profiles)")]
        public string? ProfileDir { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var loaded = RecipeLoader.Load(settings.Recipe, settings.Set ?? []);
        if (!loaded.Succeeded) return RecipeErrors.Report(loaded.Errors, Console.Error);
        var recipe = loaded.Recipe!;
        var designs = recipe.Stages.OfType<DesignStageSpec>().ToList();
        string? stageName = settings.Stage;
        var spec = stageName is null ? designs.FirstOrDefault() : designs.FirstOrDefault(d => d.DisplayName == stageName);
        if (spec is null)
        {
            Console.Error.WriteLine(designs.Count == 0
                ? $"error: {settings.Recipe} has no 'kind: design' stage; its search space and deployment shape are what is profiled."
                : $"error: no design stage named '{stageName}'; the recipe's design stages are {string.Join(", ", designs.Select(d => d.DisplayName))}.");
            return ExitCodes.InvalidInput;
        }
        if (settings.ProfileDir is { } dir) spec = spec with { Profile = dir };

        try
        {
            return Profile(recipe, spec, settings.All);
        }
        catch (InvalidDataException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("DISTILL_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: profiling failed: {e.Message}\n(set DISTILL_DEBUG=1 for the stack trace)");
            return ExitCodes.Failure;
        }
    }

    private static int Profile(Recipe recipe, DesignStageSpec spec, bool all)
    {
        var family = DesignFamilies.Get(recipe.Student.Model);
        var (source, shape) = DesignStage.Open(recipe, spec, family);
        var candidates = DesignSearch.Candidates(family, spec.Search, recipe.Student.Config!, shape);
        Console.WriteLine($"{family.Family}: {candidates.Count} candidates at {shape}");
        Console.WriteLine($"device: {source.Cache.Fingerprint}");
        Console.WriteLine($"profile: {source.Cache.FilePath} ({source.Cache.LoadedCount} cached measurements)");
        Console.WriteLine($"load average before: {Load()}");
        var profile = DesignSearch.Profile(family, shape, candidates, spec.Measure, source, line => Console.WriteLine("  " + line));
        var outcome = DesignSearch.PickByCapacity(profile, spec.Budget, source, spec.Measure.Verify, 1);
        var verdict = BudgetVerdict.Of(profile.Measured[outcome.Pick.Index], spec.Budget.LatencyMs, spec.Measure.Statistic);
        foreach (var line in DesignReport.Headline(profile, spec.Budget, outcome, verdict)) Console.WriteLine(line);

        if (all)
        {
            var fitted = profile.FitIndices.ToHashSet();
            var errors = new List<double>();
            foreach (var c in candidates.Where(c => !fitted.Contains(c.Index)))
            {
                double predicted = profile.Predicted(c);
                var m = profile.Ensure(c, source);
                double actual = m.Value(spec.Measure.Statistic);
                errors.Add(Math.Abs(predicted - actual) / actual * 100);
            }
            Console.WriteLine(errors.Count == 0
                ? "--all: every candidate was already in the fit"
                : string.Create(CultureInfo.InvariantCulture,
                    $"--all: model fitted on {fitted.Count} points predicts the other {errors.Count}: median APE {Stats.Median(errors):0.0}%, p90 {Stats.Quantile(errors, 0.9):0.0}%, max {errors.Max():0.0}%"));
        }
        Console.Write(DesignReport.Table(profile, spec.Budget, outcome, null, markdown: false));
        Console.WriteLine($"load average after: {Load()}");
        Console.WriteLine($"profile saved: {source.Cache.FilePath} ({source.Cache.Count} measurements)");
        return ExitCodes.Success;
    }

    private static string Load()
    {
        try { return File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a"; }
        catch (IOException) { return "n/a"; }
    }
}
