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
        Candidates are timed in interleaved blocks (measure.block): every candidate once per round, each round
        between two samples of a reference candidate, noisy rounds re-run; each timing records its spread,
        trimmed mean and whether it is unstable. --runtime onnxruntime times each candidate as an ONNX graph in
        ONNX Runtime (--onnx-precision fp32 or int8), in a profile of its own.
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

        [CommandOption("--runtime <RUNTIME>")]
        [Description("time the candidates in 'torchsharp' or 'onnxruntime' (each exported to an in-memory ONNX graph); default: the stage's deployment.runtime")]
        public string? Runtime { get; init; }

        [CommandOption("--onnx-precision <PRECISION>")]
        [Description("with --runtime onnxruntime: 'fp32' or 'int8' graphs; default: the stage's deployment.onnx_precision")]
        public string? OnnxPrecision { get; init; }

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
        if (settings.Runtime is { } runtime)
        {
            if (!Enum.TryParse<Models.Design.DeploymentRuntime>(runtime, ignoreCase: true, out var r) || int.TryParse(runtime, out _))
            {
                Console.Error.WriteLine($"error: --runtime '{runtime}': expected torchsharp or onnxruntime.");
                return ExitCodes.InvalidInput;
            }
            spec = spec with { Deployment = spec.Deployment with { Runtime = r } };
        }
        if (settings.OnnxPrecision is { } precision)
        {
            if (!Enum.TryParse<Models.Design.OnnxPrecision>(precision, ignoreCase: true, out var p) || int.TryParse(precision, out _))
            {
                Console.Error.WriteLine($"error: --onnx-precision '{precision}': expected fp32 or int8.");
                return ExitCodes.InvalidInput;
            }
            spec = spec with { Deployment = spec.Deployment with { OnnxPrecision = p } };
        }

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
        var outcome = DesignSearch.PickByCapacity(profile, spec.Budget, source, spec.Measure.Verify, 1, retimeMarginPct: spec.Measure.RetimeMarginPct);
        var verdict = BudgetVerdict.Of(profile.Measured[outcome.Pick.Index], spec.Budget.LatencyMs, spec.Measure.Statistic);
        foreach (var line in DesignReport.Headline(profile, spec.Budget, outcome, verdict)) Console.WriteLine(line);

        if (all)
        {
            var fitted = profile.FitIndices.ToHashSet();
            var rest = candidates.Where(c => !fitted.Contains(c.Index)).ToList();
            // The rest timed in interleaved blocks like the sample (cache hits are free).
            var uncached = rest.Where(c => !profile.Measured.ContainsKey(c.Index) && source.Cached(c) is null).ToList();
            int n = 0;
            var timed = new Dictionary<int, LatencyMeasurement>();
            foreach (var (c, m) in DesignSearch.MeasureInBlocks(uncached, spec.Measure.Block, source))
            {
                timed[c.Index] = m;
                Console.WriteLine("  " + DesignSearch.TimedLine(++n, uncached.Count, c, m));
            }
            DesignSearch.RetimeUnstable(uncached, timed, spec.Measure, source, line => Console.WriteLine("  " + line));
            var errors = new List<(Candidate C, double Ape, bool Unstable)>();
            foreach (var c in rest)
            {
                double predicted = profile.Predicted(c);
                var m = profile.Ensure(c, source);
                double actual = m.Value(spec.Measure.Statistic);
                errors.Add((c, Math.Abs(predicted - actual) / actual * 100, m.Unstable));
            }
            if (errors.Count == 0) Console.WriteLine("--all: every candidate was already in the fit");
            else
            {
                var apes = errors.Select(e => e.Ape).ToList();
                var stable = errors.Where(e => !e.Unstable).Select(e => e.Ape).ToList();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"--all: model fitted on {fitted.Count} points predicts the other {errors.Count}: median APE {Stats.Median(apes):0.0}%, p90 {Stats.Quantile(apes, 0.9):0.0}%, max {apes.Max():0.0}%"));
                Console.WriteLine(stable.Count == 0
                    ? "--all: every held-out measurement is unstable"
                    : string.Create(CultureInfo.InvariantCulture,
                        $"--all: on the {stable.Count} stable held-out measurements (spread within measure.max_spread_pct): median APE {Stats.Median(stable):0.0}%, p90 {Stats.Quantile(stable, 0.9):0.0}%, max {stable.Max():0.0}%"));
                foreach (var (c, ape, unstable) in errors.OrderByDescending(e => e.Ape).Take(5))
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  worst: {c.Label} predicted {profile.Predicted(c):0.000} ms, measured {profile.MeasuredMs(c):0.000} ms ({ape:0.0}%{(unstable ? ", unstable timing" : "")})"));
            }
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
