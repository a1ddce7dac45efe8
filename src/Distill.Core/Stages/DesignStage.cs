using System.Diagnostics;
using System.Globalization;
using Distill.Checkpoints;
using Distill.Data;
using Distill.Design;
using Distill.Logging;
using Distill.Models;
using Distill.Models.Design;
using Distill.Recipes;
using Distill.Stages.Results;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Stages;

/// <summary>
/// Hardware-aware student design (see <see cref="DesignStageSpec"/> and <see cref="DesignSearch"/>). The stage returns
/// its pick as a <see cref="DesignedStudent"/>, which the executor hands to every later stage: one that builds "the
/// recipe's student" builds the picked config instead (teacher-initialised where shapes allow). The initial designed
/// student is saved as this stage's model, which is also how a resumed run gets the pick back (<see cref="OnResumed"/>).
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

    public DesignedStudent? OnResumed(RunEnvironment run, DistillModel? reloaded)
    {
        var designed = reloaded ?? throw new InvalidOperationException($"[{spec.DisplayName}] the designed student was not reloaded.");
        var family = DesignFamilies.Get(designed.Family);
        run.Log.WriteLine($"[{spec.DisplayName}] designed student restored: {family.Label(designed.Config)}");
        return Designed(family, designed.Config);
    }

    private DesignedStudent Designed(DesignFamily family, IModelConfig config) => new(family.Family, config, spec.InitFromTeacher, spec.DisplayName);

    public StageOutput Run(StageInputs inputs)
    {
        var run = inputs.Run;
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
                var (teacherCapacity, teacherMs) = TeacherAnchor(inputs, shape, Log);
                outcome = DesignSearch.PickByParamRule(profile, spec.Budget, source, teacherCapacity, teacherMs);
                break;
            case PickKind.Proxy:
                var top = DesignSearch.PickByCapacity(profile, spec.Budget, source, spec.Measure.Verify, spec.Proxy.TopK, PickKind.Proxy, spec.Measure.RetimeMarginPct);
                outcome = top.Accepted.Count > 1 ? RunProxies(inputs, family, top, Log) : top;
                break;
            default:
                outcome = DesignSearch.PickByCapacity(profile, spec.Budget, source, spec.Measure.Verify, 1, retimeMarginPct: spec.Measure.RetimeMarginPct);
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

        var designed = Designed(family, pick.Config);
        var student = inputs.Factory.BuildDesigned(designed, ParamInit.Seeded(run.TrainFor(spec).Seed), inputs.Teacher, log: true);
        TrainingCheckpoints.SaveModel(run.ModelDir(spec), student, new CheckpointState { Stage = name, Kind = spec.Kind, RecipeSha256 = run.RecipeSha256 });
        var result = Result(run, profile, outcome, verdict, source, svgPath) with
        {
            Name = name,
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
        };
        return new StageOutput(result, student, designed);
    }

    /// <summary>The profile cache and latency source of a design spec, for its device and thread settings.</summary>
    public static (ProfiledLatencySource Source, DeploymentShape Shape) Open(Recipes.Recipe recipe, DesignStageSpec spec, DesignFamily family)
    {
        string deviceText = spec.Deployment.Device ?? recipe.Train.Device;
        var device = torch.device(deviceText);
        int threads = spec.Deployment.Threads ?? torch.get_num_threads();
        var shape = family.Resolve(spec.Deployment, recipe.Student.Config!, recipe.Data.MaxLength, threads, deviceText)
            with { Runtime = spec.Deployment.Runtime, OnnxPrecision = spec.Deployment.OnnxPrecision };
        var cache = ProfileCache.Open(spec.Profile ?? ProfileCache.DefaultDirectory, DeviceFingerprint.Current(device, threads, shape));
        var profiler = new LatencyProfiler(spec.Measure.Warmup, spec.Measure.Repeats, spec.Measure.MinSampleMs, spec.Measure.Timing);
        return (new ProfiledLatencySource(family, shape, cache, profiler, device), shape);
    }

    /// <summary>Student module paths named by the recipe's distill terms (hint layers...): a candidate must have them.</summary>
    private static HashSet<string> RequiredStudentModules(RunEnvironment run) =>
        run.Recipe.Distill.Terms.OfType<Schema.IModulePathSpec>().SelectMany(t => t.ModulePaths())
            .Where(p => p.Student).Select(p => p.Path).ToHashSet(StringComparer.Ordinal);

    /// <summary>The parameter rule's anchor: the teacher's capacity and its measured latency at the deployment shape.</summary>
    private (long Capacity, double LatencyMs) TeacherAnchor(StageInputs inputs, DeploymentShape shape, Action<string> log)
    {
        var run = inputs.Run;
        var family = DesignFamilies.Get(run.Recipe.Teacher.Model);
        var config = inputs.Teacher?.Config ?? run.Recipe.Teacher.Config!;
        var (source, _) = Open(run.Recipe, spec, family);
        var teacherShape = family.Resolve(spec.Deployment, config, run.Recipe.Data.MaxLength, shape.Threads, shape.Device)
            with { Runtime = shape.Runtime, OnnxPrecision = shape.OnnxPrecision };
        var (parameters, capacity) = family.CountParameters(config);
        var candidate = new Candidate
        {
            Index = -1, Config = config, Label = "teacher " + family.Label(config), Dims = family.Dims(config), Params = parameters,
            Capacity = capacity, Macs = family.Macs(config, teacherShape), Features = family.Features(config, teacherShape),
            CacheKey = ProfileCache.Key(family.Family, config, family.InputsText(config, teacherShape), teacherShape.RuntimeText),
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
    private DesignOutcome RunProxies(StageInputs inputs, DesignFamily family, DesignOutcome top, Action<string> log)
    {
        var run = inputs.Run;
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
            using var student = inputs.Factory.BuildDesigned(Designed(family, c.Config), init, inputs.Teacher, log: false);
            IObjective objective = CtcObjective.For(run.TrainData);
            if (inputs.Teacher is { } teacher && run.Recipe.Distill.Terms.Count > 0)
                objective = DistillTerms.Objective(run, $"{spec.DisplayName}/proxy", student, teacher, init);
            var parameters = student.parameters().Concat(objective.Trainable?.parameters() ?? []).Where(p => p.requires_grad);
            using var optimizer = OptimizerFactory.Create(train, parameters);
            var session = new TrainingSession($"{spec.DisplayName}/proxy", student, objective, optimizer, train.Steps!.Value,
                new Generator(unchecked((ulong)train.Seed), run.Device));
            new Trainer(train, []) { Prefetch = run.Recipe.Data.Prefetch }.Fit(session, trainData, evalData, run.Recipe.Data.EvalBatchSize, run.Device);
            scores[c.Index] = Evaluator.Evaluate(student, evalData, run.Recipe.Data.EvalBatchSize, run.Device, run.Recipe.Data.Prefetch)["accuracy"];
            (objective as IDisposable)?.Dispose();
            log(string.Create(CultureInfo.InvariantCulture, $"proxy {c.Label}: accuracy {scores[c.Index]:0.0000} after {train.Steps} steps"));
        }
        var best = top.Accepted.OrderByDescending(c => scores[c.Index]).ThenByDescending(c => c.Capacity).First();
        return top with { Pick = best, ProxyAccuracy = scores };
    }

    private static void WriteTensorBoard(RunEnvironment run, string name, DesignProfile profile, DesignOutcome outcome, string markdown, double budgetMs, byte[] png)
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

    /// <summary>The entry's design keys (the caller adds the standard ones).</summary>
    private DesignResult Result(RunEnvironment run, DesignProfile profile, DesignOutcome outcome, BudgetVerdict verdict,
        ProfiledLatencySource source, string svgPath)
    {
        var pick = outcome.Pick;
        var warnings = outcome.Warnings.ToList();
        if (!verdict.Within) warnings.Insert(0, verdict.Text);
        return new DesignResult
        {
            Family = profile.Family.Family,
            PickRule = outcome.Kind.ToString(),
            Pick = new DesignPick
            {
                Label = pick.Label,
                Dims = System.Text.Json.JsonSerializer.SerializeToNode(pick.Dims)!.AsObject(),
                Config = System.Text.Json.JsonSerializer.SerializeToNode(pick.Config, pick.Config.GetType())!.AsObject(),
                Params = pick.Params,
                Capacity = pick.Capacity,
                PredictedMs = profile.Predicted(pick),
                Measured = profile.Measured[pick.Index],
            },
            Budget = spec.Budget,
            WithinBudget = verdict.Within,
            BudgetMarginPct = verdict.MarginPct,
            Deployment = profile.Shape.ToString(),
            Statistic = profile.Statistic.ToString().ToLowerInvariant(),
            Fingerprint = source.Cache.Fingerprint,
            ProfileFile = source.Cache.FilePath,
            TimedNow = profile.NewlyMeasured + outcome.VerifyTimings,
            LatencyModel = new LatencyModelFit
            {
                Features = [.. profile.Model.FeatureNames],
                CostsMs = [.. profile.Model.Costs],
                Points = profile.FitIndices.Count,
                Folds = profile.Holdout.Folds,
                HoldoutMedianApePct = profile.Holdout.MedianPct,
                HoldoutMeanApePct = profile.Holdout.MeanPct,
                HoldoutMaxApePct = profile.Holdout.MaxPct,
            },
            Candidates = DesignReport.Candidates(profile, spec.Budget, outcome, null),
            Plot = Path.GetRelativePath(run.RunDir, svgPath),
            PlotPng = Path.GetRelativePath(run.RunDir, Path.ChangeExtension(svgPath, ".png")),
            ModelDir = run.RelativeModelDir(spec),
            ParamRuleBudget = outcome.ParamBudget,
            ProxyAccuracy = outcome.ProxyAccuracy?.ToDictionary(kv => profile.Candidates[kv.Key].Label, kv => kv.Value),
            Warning = warnings.Count > 0 ? string.Join("; ", warnings) : null,
        };
    }
}
