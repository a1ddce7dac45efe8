using System.Diagnostics;
using System.Text.Json;
using Distill.Caching;
using Distill.Checkpoints;
using Distill.Data;
using Distill.Losses;
using Distill.Models;
using Distill.Recipes;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// Distill's side of a bench run, in its own process (so peak RSS is this run's): the library's own
/// <see cref="Trainer"/>, <see cref="DistillObjective"/>, loss terms and AdamW on the job's models, weights and example
/// order. The <c>cache</c> variant builds a fresh fp16 teacher cache first (its time counts); <c>bf16</c> converts both
/// models and the float inputs to bfloat16 (fp32 master weights in the optimizer).
/// </summary>
public static class BenchWorker
{
    /// <summary>Runs the job in <paramref name="jobPath"/> and writes a <see cref="BenchResult"/> to <paramref name="resultPath"/>.</summary>
    public static void Run(string jobPath, string resultPath)
    {
        var started = Stopwatch.StartNew();
        var job = JsonSerializer.Deserialize<BenchJob>(File.ReadAllText(jobPath), BenchJob.Json)
                  ?? throw new InvalidDataException($"{jobPath}: empty bench job");
        torch.set_num_threads(job.Threads);
        var kind = DataKind(job.Data.Dataset);
        var dataSpec = DataSpecOf(job.Data);
        var train = SubsetDataset.Limit(kind.Open(dataSpec, "train"), job.Data.TrainLimit, job.Seed);
        var test = kind.Open(dataSpec, job.Data.EvalSplit);
        var evalIndices = BenchFiles.ReadInt32(job.EvalIndices);
        var eval = new SubsetDataset(test, evalIndices);
        if (Trainer.StepsPerEpoch(new TrainSpec { BatchSize = job.BatchSize }, train.Count) != job.StepsPerEpoch)
            throw new InvalidDataException($"{jobPath}: steps_per_epoch {job.StepsPerEpoch} does not match {train.Count} examples / batch {job.BatchSize}");

        var phases = new Dictionary<string, double> { ["data"] = ProcStatus.Mb("VmRSS"), ["data_peak"] = ProcStatus.Mb("VmHWM") };
        var weights = SafeTensors.Load(job.Weights);
        var teacher = Build(job.Teacher);
        var student = Build(job.Student);
        BenchFiles.LoadPrefixed(teacher, weights, "teacher.", job.Weights);
        BenchFiles.LoadPrefixed(student, weights, "student.", job.Weights);
        var shapes = ShapeProbe.Measure(student, teacher, kind.Inputs(dataSpec));
        var terms = new List<ILossTerm>();
        foreach (var spec0 in TermSpecs(job.Terms))
        {
            var term = LossRegistry.Default.Create(spec0, shapes);
            if (term.Trainable is { } projector) BenchFiles.LoadPrefixed(projector, weights, $"projector.{term.Name}.", job.Weights);
            terms.Add(term);
        }

        var spec = new TrainSpec
        {
            Optimizer = OptimizerKind.Adamw, Lr = job.Train.Lr, WeightDecay = job.Train.WeightDecay, WarmupSteps = job.Train.WarmupSteps,
            Schedule = Enum.Parse<ScheduleKind>(job.Train.Schedule, ignoreCase: true), GradClip = job.Train.GradClip,
            Steps = checked((int)job.TotalSteps), BatchSize = job.BatchSize, Seed = job.Seed, EvalEvery = null,
            Precision = job.Variant == "bf16" ? Precision.Bf16 : Precision.Fp32,
        };

        phases["models"] = ProcStatus.Mb("VmRSS");
        var jobClock = Stopwatch.StartNew();
        TeacherCache? cache = null;
        IDataset trainData = train;
        if (job.Variant == "cache")
        {
            string dir = job.CacheDir ?? throw new InvalidDataException($"{jobPath}: the cache variant needs cache_dir");
            var needs = TeacherNeeds.From(terms);
            var cacheSpec = new TeacherCacheSpec { Encoding = CacheEncoding.Fp16 };
            TeacherCache.EnsureDeterministic(train);
            var key = TeacherCacheKey.Compute(teacher, train, Distill.Stages.DistillStage.CacheData(dataSpec, job.Seed) with { Split = "train" }, needs, cacheSpec.Encoding, cacheSpec.TopK);
            cache = TeacherCache.OpenOrBuild(dir, key, teacher, train, needs, cacheSpec, 256, torch.CPU);
            trainData = new IndexedDataset(train);
        }
        double cacheSeconds = jobClock.Elapsed.TotalSeconds;
        phases["cache"] = ProcStatus.Mb("VmRSS");
        phases["cache_peak"] = ProcStatus.Mb("VmHWM");

        var recorder = new Recorder(job.RssEvery);
        var precision = MixedPrecision.For(spec.Precision);
        using (var objective = new DistillObjective(teacher, terms, cache))
        {
            precision.Convert(teacher, student, objective.Trainable);
            var parameters = student.parameters().Concat(objective.Trainable?.parameters() ?? []).Where(p => p.requires_grad).ToList();
            using var optimizer = precision.CreateOptimizer(spec, parameters);
            var session = new TrainingSession("bench", student, objective, optimizer, job.TotalSteps, ParamInit.Seeded(job.Seed));
            recorder.Start();
            new Trainer(spec, [recorder]).Fit(session, precision.Inputs(trainData), precision.Inputs(new SubsetDataset(eval, [0])), 1, torch.CPU);
        }
        double jobSeconds = jobClock.Elapsed.TotalSeconds;
        phases["trained"] = ProcStatus.Mb("VmRSS");
        phases["trained_peak"] = ProcStatus.Mb("VmHWM");
        cache?.Dispose();
        if (job.CacheDir is { } cd && Directory.Exists(cd)) Directory.Delete(cd, recursive: true);

        var metrics = Evaluator.Evaluate(student, precision.Inputs(eval), 1000, torch.CPU);
        phases["evaluated"] = ProcStatus.Mb("VmRSS");
        var steps = recorder.StepSeconds.ToArray();
        var result = new BenchResult
        {
            Side = "distill", Variant = job.Variant, Threads = torch.get_num_threads(),
            StepSeconds = steps,
            EpochSeconds = Enumerable.Range(0, steps.Length / job.StepsPerEpoch)
                .Select(e => steps.Skip(e * job.StepsPerEpoch).Take(job.StepsPerEpoch).Sum()).ToArray(),
            JobSeconds = jobSeconds, CacheSeconds = cacheSeconds,
            Losses = [.. recorder.Losses], Accuracy = metrics["accuracy"],
            PeakRssMb = phases["trained_peak"], RssMb = [.. recorder.Rss], PhaseRssMb = phases,
            ProcessSeconds = started.Elapsed.TotalSeconds, LoadAverage = ProcStatus.LoadAverage(),
        };
        File.WriteAllText(resultPath, JsonSerializer.Serialize(result, BenchJob.Json));
    }

    /// <summary>The dataset entry of a job's data: <see cref="BenchTokenDataset.Kind"/> for <c>bench_tokens</c>, else the registry's.</summary>
    public static DatasetKind DataKind(string dataset) =>
        dataset == BenchTokenDataset.Key ? BenchTokenDataset.Kind : DatasetRegistry.Default.Get(dataset);

    /// <summary>The recipe data section equivalent to a job's data (absolute path, normalisation, fixed token length).</summary>
    public static DataSpec DataSpecOf(BenchData data) => new()
    {
        Dataset = data.Dataset, Path = data.Path, TrainLimit = data.TrainLimit, EvalLimit = data.EvalLimit, EvalSplit = data.EvalSplit,
        MaxLength = data.MaxLength > 0 ? data.MaxLength : 64,
        Preprocessing = data.Mean.Length == 0 ? new PreprocessSpec() : new PreprocessSpec { Mean = [.. data.Mean], Std = [.. data.Std] },
    };

    /// <summary>The recipe specs of a job's terms, in the order they are summed (explicit layer pairs).</summary>
    public static IReadOnlyList<LossTermSpec> TermSpecs(BenchTerms terms)
    {
        var st = terms.SoftTarget;
        var specs = new List<LossTermSpec> { new SoftTargetSpec { Name = st.Name, Weight = st.Weight, Temperature = st.Temperature, Alpha = st.Alpha } };
        if (terms.Hint is { } h) specs.Add(new HintSpec { Name = h.Name, Weight = h.Weight, Student = h.Student, Teacher = h.Teacher });
        if (terms.Hidden is { } hm) specs.Add(new HiddenMseSpec { Name = hm.Name, Weight = hm.Weight, Layers = Pairs(hm.Pairs, hm.Name) });
        if (terms.Attention is { } a)
            specs.Add(new AttentionSpec
            {
                Name = a.Name, Weight = a.Weight, Layers = Pairs(a.Pairs, a.Name),
                Loss = a.Loss switch
                {
                    "kl" => AttentionLossKind.Kl,
                    "mse" => AttentionLossKind.Mse,
                    _ => throw new InvalidDataException($"bench job: attention term '{a.Name}' has loss '{a.Loss}'; expected kl or mse."),
                },
            });
        return specs;
    }

    private static LayerMapping Pairs(int[][] pairs, string term)
    {
        if (pairs.Length == 0 || pairs.Any(p => p.Length != 2))
            throw new InvalidDataException($"bench job: term '{term}' needs layer pairs [[student, teacher], ...], got {pairs.Length} entries.");
        return LayerMapping.Pairs(pairs.Select(p => (p[0], p[1])));
    }

    private static DistillModel Build(BenchModel model)
    {
        var family = ModelRegistry.Default.Get(model.Family);
        var config = (IModelConfig)(model.Config.Deserialize(family.ConfigType)
                                    ?? throw new InvalidDataException($"bench job: empty {model.Family} config"));
        return family.Build(config);
    }

    /// <summary>Step wall times (between successive step callbacks), losses and RSS samples.</summary>
    private sealed class Recorder(int rssEvery) : ITrainerCallback
    {
        private readonly Stopwatch _clock = new();
        private double _last;

        public List<double> StepSeconds { get; } = [];
        public List<double> Losses { get; } = [];
        public List<double[]> Rss { get; } = [];

        public void Start()
        {
            _clock.Restart();
            _last = 0;
        }

        public void OnStep(TrainingSession session, StepInfo step)
        {
            double now = _clock.Elapsed.TotalSeconds;
            StepSeconds.Add(now - _last);
            Losses.Add(step.Total);
            if (step.Step % rssEvery == 0) Rss.Add([step.Step, ProcStatus.Mb("VmRSS")]);
            _last = _clock.Elapsed.TotalSeconds; // the RSS read is not part of the next step
        }
    }
}
