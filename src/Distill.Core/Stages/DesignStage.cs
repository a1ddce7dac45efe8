using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Distill.Checkpoints;
using Distill.Data;
using Distill.Design;
using Distill.Logging;
using Distill.Models;
using Distill.Models.Design;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Stages;

/// <summary>
/// Hardware-aware student design (see <see cref="DesignStageSpec"/> and <see cref="DesignSearch"/>). Afterwards
/// <see cref="RunContext.StudentFactory"/> builds the picked config (teacher-initialised where shapes allow) wherever a
/// later stage builds "the recipe's student", and the initial designed student is saved as this stage's model, which
/// is also how a resumed run gets the pick back (<see cref="OnResumed"/>).
/// <para>Outputs: the table in the log and as TensorBoard text (<c>design/table</c>); <c>&lt;run&gt;/design/&lt;stage&gt;/design.svg</c>
/// and <c>design.png</c> (latency vs parameters, Pareto front, budget, pick; the PNG is also the TensorBoard image
/// <c>design/plot</c>) and <c>table.md</c>; TensorBoard scalars <c>design/measured_ms</c>,
/// <c>design/predicted_ms</c>, <c>design/pareto_ms</c> and <c>design/budget_ms</c> with the candidate's parameter count as
/// the step (so the scalar chart is the latency-vs-parameters plot); summary.json gets every candidate, the fit, the
/// fingerprint, the pick and the budget verdict.</para>
/// </summary>
public sealed class DesignStage(DesignStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.Student;

    public void OnResumed(RunContext run)
    {
        var designed = run.Student ?? throw new InvalidOperationException($"[{spec.DisplayName}] the designed student was not reloaded.");
        var config = designed.Config;
        var family = DesignFamilies.Get(designed.Family);
        run.StudentFactory = init => BuildStudent(run, family, config, init, log: false);
        run.Log.WriteLine($"[{spec.DisplayName}] designed student restored: {family.Label(config)}");
    }

    public StageResult Run(RunContext run)
    {
        var clock = Stopwatch.StartNew();
        string name = spec.DisplayName;
        void Log(string line) => run.Log.WriteLine($"[{name}] {line}");
        var family = DesignFamilies.Get(run.Recipe.Student.Model);
        var baseConfig = run.Recipe.Student.Config ?? throw new InvalidOperationException("The student has no bound config.");
        var (source, shape) = Open(run.Recipe, spec, family);

        var required = RequiredStudentModules(run);
        var lacking = new HashSet<IModelConfig>(ReferenceEqualityComparer.Instance);
        var all = DesignSearch.Candidates(family, spec.Search, baseConfig, shape, c =>
        {
            var (counts, hasModules) = family.Inspect(c, required);
            if (!hasModules) lacking.Add(c);
            return counts;
        });
        var candidates = all.Where(c => !lacking.Contains(c.Config)).Select((c, i) => c with { Index = i }).ToList();
        if (lacking.Count > 0)
            Log($"{lacking.Count} candidates dropped: they lack a student module the distill terms name ({string.Join(", ", required)})");
        if (candidates.Count == 0)
            throw new InvalidOperationException($"[{name}] no candidate has the student modules the distill terms name ({string.Join(", ", required)}); widen the search space or change the terms.");

        Log($"{candidates.Count} candidates; timing up to {spec.Measure.MaxMeasured} on {source.Cache.Fingerprint} (profile {source.Cache.FilePath}, {source.Cache.LoadedCount} cached)");
        var profile = DesignSearch.Profile(family, shape, candidates, spec.Measure, source, Log);

        DesignOutcome outcome;
        switch (spec.Pick)
        {
            case PickKind.ParamRule:
                var (teacherCapacity, teacherMs) = TeacherAnchor(run, shape, Log);
                outcome = DesignSearch.PickByParamRule(profile, spec.Budget, source, teacherCapacity, teacherMs);
                break;
            case PickKind.Proxy:
                var top = DesignSearch.PickByCapacity(profile, spec.Budget, source, spec.Measure.Verify, spec.Proxy.TopK, PickKind.Proxy);
                outcome = top.Accepted.Count > 1 ? RunProxies(run, family, top, Log) : top;
                break;
            default:
                outcome = DesignSearch.PickByCapacity(profile, spec.Budget, source, spec.Measure.Verify, 1);
                break;
        }

        var pick = outcome.Pick;
        var measured = profile.Ensure(pick, source);
        var verdict = BudgetVerdict.Of(measured, spec.Budget.LatencyMs, spec.Measure.Statistic);
        foreach (var line in DesignReport.Headline(profile, spec.Budget, outcome, verdict)) Log(line);
        string table = DesignReport.Table(profile, spec.Budget, outcome, null, markdown: false);
        run.Log.Write(table);

        string outDir = Path.Combine(run.RunDir, "design", name);
        Directory.CreateDirectory(outDir);
        string svgPath = Path.Combine(outDir, "design.svg");
        string title = $"{name}: {family.Family} students on {source.Cache.Fingerprint.Processor}";
        File.WriteAllText(svgPath, DesignPlot.Svg(profile, outcome, spec.Budget.LatencyMs, title));
        byte[] png = DesignPlot.Png(profile, outcome, spec.Budget.LatencyMs, title);
        File.WriteAllBytes(Path.Combine(outDir, "design.png"), png);
        string markdown = string.Join("\n\n", DesignReport.Headline(profile, spec.Budget, outcome, verdict)) + "\n\n" +
                          DesignReport.Table(profile, spec.Budget, outcome, null, markdown: true);
        File.WriteAllText(Path.Combine(outDir, "table.md"), markdown);
        if (run.Recipe.Output.Tensorboard) WriteTensorBoard(run, name, profile, outcome, markdown, spec.Budget.LatencyMs, png);

        run.StudentFactory = init => BuildStudent(run, family, pick.Config, init, log: false);
        var student = BuildStudent(run, family, pick.Config, ParamInit.Seeded(run.TrainFor(spec).Seed), log: true);
        CheckpointIO.SaveModel(run.ModelDir(spec), student, new CheckpointState { Stage = name, Kind = spec.Kind, RecipeSha256 = run.RecipeSha256 });
        run.Student = student;
        return new StageResult
        {
            Name = name,
            Kind = spec.Kind,
            Metrics = new Dictionary<string, double>
            {
                ["latency_ms"] = measured.Value(spec.Measure.Statistic),
                ["budget_ms"] = spec.Budget.LatencyMs,
                ["predicted_ms"] = profile.Predicted(pick),
                ["latency_model_mdape_pct"] = profile.Holdout.MedianPct,
            },
            Params = student.ParameterCount(),
            ModelBytes = student.ParameterBytes(),
            WallSeconds = clock.Elapsed.TotalSeconds,
            Extra = Extra(run, profile, outcome, verdict, source, svgPath),
        };
    }

    /// <summary>The profile cache and latency source of a design spec, for its device and thread settings.</summary>
    public static (ProfiledLatencySource Source, DeploymentShape Shape) Open(Recipes.Recipe recipe, DesignStageSpec spec, DesignFamily family)
    {
        string deviceText = spec.Deployment.Device ?? recipe.Train.Device;
        var device = torch.device(deviceText);
        int threads = spec.Deployment.Threads ?? torch.get_num_threads();
        var shape = family.Resolve(spec.Deployment, recipe.Student.Config!, recipe.Data.MaxLength, threads, deviceText);
        var cache = ProfileCache.Open(spec.Profile ?? ProfileCache.DefaultDirectory, DeviceFingerprint.Current(device, threads));
        var profiler = new LatencyProfiler(spec.Measure.Warmup, spec.Measure.Repeats, spec.Measure.MinSampleMs);
        return (new ProfiledLatencySource(family, shape, cache, profiler, device), shape);
    }

    /// <summary>Student module paths named by the recipe's distill terms (hint layers...): a candidate must have them.</summary>
    private static HashSet<string> RequiredStudentModules(RunContext run) =>
        run.Recipe.Distill.Terms.OfType<Recipes.IModulePathSpec>().SelectMany(t => t.ModulePaths())
            .Where(p => p.Student).Select(p => p.Path).ToHashSet(StringComparer.Ordinal);

    /// <summary>A fresh student of the picked config, seeded, on the run's device, with the teacher's tensors where they fit.</summary>
    private DistillModel BuildStudent(RunContext run, DesignFamily family, IModelConfig config, Generator init, bool log)
    {
        var student = ParamInit.Build(init, () => ModelRegistry.Default.Get(family.Family).Build(config)).to(run.Device);
        if (spec.InitFromTeacher && run.Teacher is { } teacher)
        {
            var report = Models.Init.TeacherInit.ApplyWhereFits(student, teacher);
            if (log) run.Log.WriteLine($"[{spec.DisplayName}] initialised {report.FromTeacher} of {report.FromTeacher + report.Fresh.Count} student tensors from the teacher " +
                                       $"(student layers <- teacher layers [{string.Join(", ", report.Layers)}], {report.Truncated.Count} truncated to narrower widths)");
        }
        return student;
    }

    /// <summary>The parameter rule's anchor: the teacher's capacity and its measured latency at the deployment shape.</summary>
    private (long Capacity, double LatencyMs) TeacherAnchor(RunContext run, DeploymentShape shape, Action<string> log)
    {
        var family = DesignFamilies.Get(run.Recipe.Teacher.Model);
        var config = run.Teacher?.Config ?? run.Recipe.Teacher.Config!;
        var (source, _) = Open(run.Recipe, spec, family);
        var teacherShape = family.Resolve(spec.Deployment, config, run.Recipe.Data.MaxLength, shape.Threads, shape.Device);
        var (parameters, capacity) = family.CountParameters(config);
        var candidate = new Candidate
        {
            Index = -1, Config = config, Label = "teacher " + family.Label(config), Dims = family.Dims(config), Params = parameters,
            Capacity = capacity, Macs = family.Macs(config, teacherShape), Features = family.Features(config, teacherShape),
            CacheKey = ProfileCache.Key(family.Family, config, family.InputsText(config, teacherShape)),
        };
        var m = source.Cached(candidate) ?? source.Measure(candidate);
        log(string.Create(CultureInfo.InvariantCulture, $"teacher ({candidate.Label}): {capacity:N0} capacity parameters, {m.Value(spec.Measure.Statistic):0.000} ms per batch"));
        return (capacity, m.Value(spec.Measure.Statistic));
    }

    /// <summary>
    /// <c>pick: proxy</c>: a short training run of each accepted candidate (with the recipe's distill terms against the
    /// teacher, else cross-entropy) on the training split minus <c>proxy.eval_limit</c> held-out examples (at most a
    /// fifth of it), scored by accuracy on those; the best wins (ties go to the larger candidate).
    /// </summary>
    private DesignOutcome RunProxies(RunContext run, DesignFamily family, DesignOutcome top, Action<string> log)
    {
        var scores = new Dictionary<int, double>();
        // Scored on training examples the proxy runs do not train on: the evaluation split stays unseen by the choice.
        var order = Trainer.Permutation(run.TrainData.Count, run.TrainFor(spec).Seed, -2);
        int held = Math.Min(spec.Proxy.EvalLimit, run.TrainData.Count / 5);
        var evalData = new SubsetDataset(run.TrainData, order[..held]);
        var trainData = new SubsetDataset(run.TrainData, order[held..]);
        var train = run.TrainFor(spec) with { Steps = spec.Proxy.Steps, Epochs = null, EvalEvery = null, WarmupSteps = Math.Min(run.TrainFor(spec).WarmupSteps, spec.Proxy.Steps / 10) };
        foreach (var c in top.Accepted)
        {
            var init = ParamInit.Seeded(train.Seed);
            using var student = BuildStudent(run, family, c.Config, init, log: false);
            IObjective objective = new CrossEntropyObjective();
            if (run.Teacher is { } teacher && run.Recipe.Distill.Terms.Count > 0)
                objective = DistillTerms.Objective(run, $"{spec.DisplayName}/proxy", student, teacher, init);
            var parameters = student.parameters().Concat(objective.Trainable?.parameters() ?? []).Where(p => p.requires_grad);
            using var optimizer = OptimizerFactory.Create(train, parameters);
            var session = new TrainingSession($"{spec.DisplayName}/proxy", student, objective, optimizer, train.Steps!.Value,
                new Generator(unchecked((ulong)train.Seed), run.Device));
            new Trainer(train, []).Fit(session, trainData, evalData, run.Recipe.Data.EvalBatchSize, run.Device);
            scores[c.Index] = Evaluator.Evaluate(student, evalData, run.Recipe.Data.EvalBatchSize, run.Device)["accuracy"];
            (objective as IDisposable)?.Dispose();
            log(string.Create(CultureInfo.InvariantCulture, $"proxy {c.Label}: accuracy {scores[c.Index]:0.0000} after {train.Steps} steps"));
        }
        var best = top.Accepted.OrderByDescending(c => scores[c.Index]).ThenByDescending(c => c.Capacity).First();
        return top with { Pick = best, ProxyAccuracy = scores };
    }

    private static void WriteTensorBoard(RunContext run, string name, DesignProfile profile, DesignOutcome outcome, string markdown, double budgetMs, byte[] png)
    {
        string logDir = Path.Combine(run.RunDir, "tb", name);
        var writer = new EventFileWriter(logDir);
        writer.Text("design/table", markdown, 0);
        var front = DesignSearch.ParetoFront(profile.Candidates, profile.Expected).Select(c => c.Index).ToHashSet();
        foreach (var c in profile.Candidates.OrderBy(c => c.Params))
        {
            long step = c.Params;
            writer.Scalar("design/predicted_ms", profile.Predicted(c), step);
            if (profile.Measured.TryGetValue(c.Index, out var m)) writer.Scalar("design/measured_ms", m.Value(profile.Statistic), step);
            if (front.Contains(c.Index)) writer.Scalar("design/pareto_ms", profile.Expected(c), step);
            writer.Scalar("design/budget_ms", budgetMs, step);
        }
        writer.Scalar("design/pick_ms", profile.Expected(outcome.Pick), outcome.Pick.Params);
        // The plot itself, for the Images tab.
        writer.Image("design/plot", png, 0);
    }

    private Dictionary<string, object> Extra(RunContext run, DesignProfile profile, DesignOutcome outcome, BudgetVerdict verdict,
        ProfiledLatencySource source, string svgPath)
    {
        var pick = outcome.Pick;
        var fit = new JsonObject
        {
            ["features"] = new JsonArray(profile.Model.FeatureNames.Select(n => (JsonNode)n).ToArray()),
            ["costs_ms"] = new JsonArray(profile.Model.Costs.Select(c => (JsonNode)c).ToArray()),
            ["points"] = profile.FitIndices.Count,
            ["folds"] = profile.Holdout.Folds,
            ["holdout_median_ape_pct"] = Finite(profile.Holdout.MedianPct),
            ["holdout_mean_ape_pct"] = Finite(profile.Holdout.MeanPct),
            ["holdout_max_ape_pct"] = Finite(profile.Holdout.MaxPct),
        };
        var extra = new Dictionary<string, object>
        {
            ["family"] = profile.Family.Family,
            ["pick_rule"] = outcome.Kind.ToString(),
            ["pick"] = new JsonObject
            {
                ["label"] = pick.Label,
                ["dims"] = System.Text.Json.JsonSerializer.SerializeToNode(pick.Dims),
                ["config"] = System.Text.Json.JsonSerializer.SerializeToNode(pick.Config, pick.Config.GetType()),
                ["params"] = pick.Params,
                ["capacity"] = pick.Capacity,
                ["predicted_ms"] = profile.Predicted(pick),
                ["measured"] = System.Text.Json.JsonSerializer.SerializeToNode(profile.Measured[pick.Index]),
            },
            ["budget"] = System.Text.Json.JsonSerializer.SerializeToNode(spec.Budget)!,
            ["within_budget"] = verdict.Within,
            ["budget_margin_pct"] = verdict.MarginPct,
            ["deployment"] = profile.Shape.ToString(),
            ["statistic"] = profile.Statistic.ToString().ToLowerInvariant(),
            ["fingerprint"] = System.Text.Json.JsonSerializer.SerializeToNode(source.Cache.Fingerprint)!,
            ["profile_file"] = source.Cache.FilePath,
            ["timed_now"] = profile.NewlyMeasured + outcome.VerifyTimings,
            ["latency_model"] = fit,
            ["candidates"] = DesignReport.Candidates(profile, spec.Budget, outcome, null),
            ["plot"] = Path.GetRelativePath(run.RunDir, svgPath),
            ["plot_png"] = Path.GetRelativePath(run.RunDir, Path.ChangeExtension(svgPath, ".png")),
            ["model_dir"] = Path.GetRelativePath(run.RunDir, run.ModelDir(spec)),
        };
        if (outcome.ParamBudget is { } pb) extra["param_rule_budget"] = pb;
        if (outcome.ProxyAccuracy is { } proxy)
            extra["proxy_accuracy"] = proxy.ToDictionary(kv => profile.Candidates[kv.Key].Label, kv => kv.Value);
        var warnings = outcome.Warnings.ToList();
        if (!verdict.Within) warnings.Insert(0, verdict.Text);
        if (warnings.Count > 0) extra["warning"] = string.Join("; ", warnings);
        return extra;
    }

    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
}
