using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Distill.Checkpoints;
using Distill.Data;
using Distill.Data.Sst2;
using Distill.Losses;
using Distill.Models;
using Distill.Text;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Bench;

/// <summary>
/// The orchestrator of <c>distill bench</c>: trains the teacher briefly, draws every repetition's initial student and
/// projector weights, training subset and example order, writes them with a <see cref="BenchJob"/> per run, runs each
/// run in its own process (Distill worker or the PyTorch peer, interleaved), and renders the table. Text workloads are
/// tokenized here once per repetition into <see cref="BenchTokenDataset"/> files that both sides read.
/// </summary>
public sealed class BenchRunner
{
    private readonly BenchSettings _s;
    private readonly Func<string, string, ProcessStartInfo> _distillWorker;
    private readonly TextWriter _log;

    /// <param name="settings">What to run.</param>
    /// <param name="distillWorker">The process that runs one job on the Distill side: (job.json, result.json) → start info
    /// (the CLI starts itself in worker mode, which calls <see cref="BenchWorker.Run"/>).</param>
    /// <param name="log">Progress lines and the final table.</param>
    public BenchRunner(BenchSettings settings, Func<string, string, ProcessStartInfo> distillWorker, TextWriter log)
    {
        _s = settings;
        _distillWorker = distillWorker;
        _log = log;
    }

    /// <summary>Runs the bench and writes <c>&lt;out&gt;/&lt;workload&gt;-&lt;utc&gt;.{json,md}</c> and <c>latest.*</c>; returns the markdown.</summary>
    public string Run(string command, string torchVersion)
    {
        var w = _s.Workload;
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string work = Path.Combine(_s.OutDir, "work", $"{w.Name}-{stamp}");
        Directory.CreateDirectory(work);
        _log.WriteLine($"distill bench: {w.Name}, {_s.Reps} repetitions × [{string.Join(", ", _s.Variants)}], {_s.Epochs} epochs, {_s.Threads} threads; " +
                       $"PyTorch {torchVersion}; load {ProcStatus.LoadAverage()[0].ToString("F1", CultureInfo.InvariantCulture)}");

        torch.set_num_threads(_s.Threads);
        var prep = Prepare(work);
        _log.WriteLine($"prepared: {prep.TrainCount} training examples, {prep.StepsPerEpoch} steps/epoch; teacher trained {_s.TeacherSteps} steps, " +
                       $"{w.EvalSplit} accuracy {prep.TeacherAccuracy:F4} ({prep.PrepSeconds:F0} s)");

        var runs = new List<BenchResult>();
        long mainSteps = (long)_s.Epochs * prep.StepsPerEpoch;
        for (int rep = 0; rep < _s.Reps; rep++)
            foreach (var (side, variant) in Plan(rep, _s.Variants))
                runs.Add(RunOne(side, prep.Jobs[rep] with { Variant = variant, TotalSteps = mainSteps }, work, rep, "main", _s.Reps));
        if (_s.RssSteps > 0)
            foreach (var side in new[] { "distill", "pytorch" })
                runs.Add(RunOne(side, prep.Jobs[0] with { Variant = "kd", TotalSteps = _s.RssSteps }, work, 0, "rss", 1));

        string created = DateTime.UtcNow.ToString("O");
        var footer = new BenchFooter(w.Name, command.TrimEnd(), created, ProcStatus.CpuModel(), Environment.ProcessorCount, torchVersion, _s.Threads,
            _s.Reps, _s.Epochs, _s.RssSteps, _s.TeacherSteps, prep.TeacherAccuracy, prep.TrainCount);
        string markdown = Render(footer, runs, out var rows);
        _log.WriteLine();
        _log.WriteLine(markdown);

        var report = new Dictionary<string, object?>
        {
            ["workload"] = w.Name, ["command"] = footer.Command, ["created_utc"] = created,
            ["machine"] = new Dictionary<string, object?> { ["cpu"] = footer.Cpu, ["cores"] = footer.Cores, ["torch"] = torchVersion, ["dotnet"] = Environment.Version.ToString() },
            ["settings"] = new Dictionary<string, object?>
            {
                ["reps"] = _s.Reps, ["epochs"] = _s.Epochs, ["threads"] = _s.Threads, ["variants"] = _s.Variants, ["rss_steps"] = _s.RssSteps,
                ["train_examples"] = prep.TrainCount, ["steps_per_epoch"] = prep.StepsPerEpoch, ["teacher_steps"] = _s.TeacherSteps,
                ["teacher_accuracy"] = prep.TeacherAccuracy,
            },
            ["rows"] = rows, ["runs"] = runs,
        };
        string json = JsonSerializer.Serialize(report, BenchJob.Json);
        string baseName = Path.Combine(_s.OutDir, $"{w.Name}-{stamp}");
        File.WriteAllText(baseName + ".json", json);
        File.WriteAllText(baseName + ".md", markdown);
        File.WriteAllText(Path.Combine(_s.OutDir, "latest.json"), json);
        File.WriteAllText(Path.Combine(_s.OutDir, "latest.md"), markdown);
        Directory.Delete(work, recursive: true);
        _log.WriteLine($"wrote {baseName}.json and .md (and latest.*)");
        return markdown;
    }

    /// <summary>
    /// The runs of repetition <paramref name="rep"/>, in order: Distill and PyTorch <c>kd</c> alternate which goes first
    /// (so neither always runs on the warmer machine), then the Distill-only variants.
    /// </summary>
    public static IReadOnlyList<(string Side, string Variant)> Plan(int rep, IReadOnlyList<string> variants)
    {
        var plan = new List<(string Side, string Variant)>();
        if (variants.Contains("kd"))
            plan.AddRange(rep % 2 == 0 ? [("distill", "kd"), ("pytorch", "kd")] : [("pytorch", "kd"), ("distill", "kd")]);
        if (variants.Contains("cache")) plan.Add(("distill", "cache"));
        if (variants.Contains("bf16")) plan.Add(("distill", "bf16"));
        return plan;
    }

    /// <summary>The markdown table and its footer (command, time, machine, threads, repetitions, load range, teacher, workload).</summary>
    public static string Render(BenchFooter f, IReadOnlyList<BenchResult> runs, out List<BenchReport.Row> rows)
    {
        rows = BenchReport.Rows(f.Workload, runs, f.Epochs, f.RssSteps);
        var loads = runs.Select(r => r.LoadBefore).Concat(runs.Select(r => r.LoadAverage.FirstOrDefault())).Where(double.IsFinite).ToList();
        string when = DateTime.Parse(f.CreatedUtc, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        double lo = loads.Count == 0 ? double.NaN : loads.Min(), hi = loads.Count == 0 ? double.NaN : loads.Max();
        var workload = BenchWorkload.All.FirstOrDefault(x => x.Name == f.Workload);
        string evalSplit = workload?.EvalSplit ?? "test";
        string footer =
            FormattableString.Invariant($"Command: `{f.Command}`. {when} UTC, {f.Cpu}, {f.Cores} cores, ") +
            FormattableString.Invariant($"{f.Threads} threads per side, {f.Reps} repetitions with seeds 42… (median, min–max), TorchSharp/libtorch vs Debian PyTorch {f.TorchVersion} + OpenBLAS (OpenMP). ") +
            FormattableString.Invariant($"1-minute load average during the runs: {lo:F1}–{hi:F1} ") +
            "(the machine was shared with other jobs, so timings are noisy; the 10th-percentile rows show the work with less of the contention). " +
            (f.TeacherSteps > 0
                ? FormattableString.Invariant($"Teacher trained {f.TeacherSteps} steps ({evalSplit} accuracy {f.TeacherAccuracy:F4}); ")
                : FormattableString.Invariant($"Teacher at initialisation ({evalSplit} accuracy {f.TeacherAccuracy:F4}); ")) +
            FormattableString.Invariant($"{f.TrainCount} training examples.") +
            (workload is null ? "" : $" Workload: {workload.Description}; from {workload.Recipe}, differences: {workload.Differences}.");
        return BenchReport.Markdown(rows) + "\n" + footer + "\n";
    }

    /// <summary>Renders the table of a saved bench JSON again (with this version's rows), writes it next to the JSON as .md and returns it.</summary>
    public static string Rerender(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var settings = root.GetProperty("settings");
        var machine = root.GetProperty("machine");
        var runs = root.GetProperty("runs").Deserialize<List<BenchResult>>(BenchJob.Json)!;
        var footer = new BenchFooter(root.GetProperty("workload").GetString()!, root.GetProperty("command").GetString()!.TrimEnd(),
            root.GetProperty("created_utc").GetString()!, machine.GetProperty("cpu").GetString()!, machine.GetProperty("cores").GetInt32(),
            machine.GetProperty("torch").GetString()!, settings.GetProperty("threads").GetInt32(), settings.GetProperty("reps").GetInt32(),
            settings.GetProperty("epochs").GetInt32(), settings.GetProperty("rss_steps").GetInt32(), settings.GetProperty("teacher_steps").GetInt32(),
            settings.GetProperty("teacher_accuracy").GetDouble(), settings.GetProperty("train_examples").GetInt32());
        string markdown = Render(footer, runs, out _);
        File.WriteAllText(Path.ChangeExtension(path, ".md"), markdown);
        return markdown;
    }

    /// <summary>
    /// The training-set indices of <c>train_limit</c>: the first <paramref name="limit"/> of the seeded shuffle
    /// <see cref="SubsetDataset.Limit"/> draws, or all of 0..count−1 when no limit applies.
    /// </summary>
    public static int[] SubsetIndices(int count, int? limit, long seed) =>
        limit is { } n && n < count ? Trainer.Permutation(count, seed, -1)[..n] : Enumerable.Range(0, count).ToArray();

    /// <summary>
    /// The training examples of every step, epoch after epoch: the Trainer's permutation of epoch e (seed
    /// <paramref name="seed"/>), cut to whole batches, each index mapped through <paramref name="map"/> (the index the
    /// peer reads: a source index for image data, the token file's row for text).
    /// </summary>
    public static IEnumerable<int> Orders(int[] map, long seed, int epochs, int stepsPerEpoch, int batchSize) =>
        Enumerable.Range(0, epochs).SelectMany(e => Trainer.Permutation(map.Length, seed, e).Take(stepsPerEpoch * batchSize).Select(i => map[i]));

    /// <summary>
    /// The job records of built loss terms (resolved layer pairs, projector shapes), in order. The peer implements
    /// soft_target, hint, hidden_mse (Linear projector) and attention; any other term, or a second term of one kind,
    /// is an <see cref="ArgumentException"/>.
    /// </summary>
    public static BenchTerms Terms(IReadOnlyList<ILossTerm> terms)
    {
        BenchSoftTarget? soft = null;
        BenchHint? hint = null;
        BenchHiddenMse? hidden = null;
        BenchAttention? attention = null;
        for (int i = 0; i < terms.Count; i++)
        {
            var term = terms[i];
            bool duplicate = false;
            switch (term)
            {
                case SoftTargetLoss st when i == 0:
                    soft = new BenchSoftTarget(st.Name, st.Weight, st.Temperature, st.Alpha);
                    break;
                case HintLoss h:
                    duplicate = hint is not null;
                    hint = new BenchHint(h.Name, h.Weight, h.StudentPath, h.TeacherPath, h.Projector.IsConvolution, h.Projector.InFeatures, h.Projector.OutFeatures);
                    break;
                case HiddenStateMseLoss hm:
                    duplicate = hidden is not null;
                    if (hm.Projector is { IsConvolution: true })
                        throw new ArgumentException($"bench: hidden_mse term '{hm.Name}' needs a 1x1-conv projector (image feature maps); the PyTorch peer implements the Linear one only.");
                    hidden = new BenchHiddenMse(hm.Name, hm.Weight, [.. hm.Pairs.Select(p => new[] { p.Student, p.Teacher })],
                        hm.Projector?.InFeatures ?? 0, hm.Projector?.OutFeatures ?? 0);
                    break;
                case AttentionMapLoss a:
                    duplicate = attention is not null;
                    attention = new BenchAttention(a.Name, a.Weight, [.. a.Pairs.Select(p => new[] { p.Student, p.Teacher })], a.Loss == AttentionLossKind.Kl ? "kl" : "mse");
                    break;
                default:
                    throw new ArgumentException(
                        $"bench: term '{term.Name}' ({term.GetType().Name}) at position {i} cannot be mirrored: the PyTorch peer sums a soft_target term first, " +
                        "then at most one each of hint, hidden_mse and attention.");
            }
            if (duplicate) throw new ArgumentException($"bench: a second {term.GetType().Name} term ('{term.Name}'); the PyTorch peer implements one of each kind.");
        }
        if (soft is null) throw new ArgumentException("bench: the first term must be soft_target.");
        var order = terms.Select(t => t switch { HintLoss => 1, HiddenStateMseLoss => 2, AttentionMapLoss => 3, _ => 0 }).ToList();
        if (!order.SequenceEqual(order.Order()))
            throw new ArgumentException("bench: terms must come in the order soft_target, hint, hidden_mse, attention (the order both sides sum them in).");
        return new BenchTerms(soft, hint, hidden, attention);
    }

    /// <summary>
    /// The base job (variant <c>kd</c>, one epoch; the runs set variant and steps) of one repetition: the workload's
    /// models with their configs as Distill serialises them (HF keys), optimisation, data and terms.
    /// </summary>
    public static BenchJob Job(BenchWorkload w, int threads, long seed, int stepsPerEpoch, BenchData data, BenchTerms terms,
        string weights, string orders, string evalIndices) => new()
    {
        Workload = w.Name, Variant = "kd", Threads = threads, Seed = seed, BatchSize = w.Train.BatchSize, StepsPerEpoch = stepsPerEpoch,
        TotalSteps = stepsPerEpoch, RssEvery = w.RssEvery,
        Teacher = new BenchModel(w.TeacherFamily, JsonSerializer.SerializeToElement(w.TeacherConfig, w.TeacherConfig.GetType())),
        Student = new BenchModel(w.StudentFamily, JsonSerializer.SerializeToElement(w.StudentConfig, w.StudentConfig.GetType())),
        Data = data,
        Train = new BenchTrain(w.Train.Lr, w.Train.WeightDecay, w.Train.WarmupSteps, w.Train.Schedule.ToString().ToLowerInvariant(), w.Train.GradClip),
        Terms = terms,
        Weights = weights, Orders = orders, EvalIndices = evalIndices,
    };

    private sealed record Prepared(IReadOnlyList<BenchJob> Jobs, int TrainCount, int StepsPerEpoch, double TeacherAccuracy, double PrepSeconds);

    /// <summary>One repetition's data as the worker opens it, and the map from its training indices to the indices the peer reads.</summary>
    private sealed record RepData(BenchData Data, int[] Map);

    /// <summary>Trains the teacher briefly, draws the students' and projectors' initial weights, and writes weights, data, orders and the base jobs.</summary>
    private Prepared Prepare(string work)
    {
        var clock = Stopwatch.StartNew();
        var w = _s.Workload;
        long seed = w.Train.Seed;
        int batch = w.Train.BatchSize;
        Func<int, RepData> repData = w.Dataset == "sst2" ? TokenizedData(work) : ImageData();

        // The teacher is trained on repetition 0's training set, opened exactly as the worker opens it.
        var data0 = repData(0);
        var kind = BenchWorker.DataKind(data0.Data.Dataset);
        var spec0 = BenchWorker.DataSpecOf(data0.Data);
        var train0 = SubsetDataset.Limit(kind.Open(spec0, "train"), data0.Data.TrainLimit, seed);
        var test = kind.Open(spec0, data0.Data.EvalSplit);
        var trainSpec = w.Train;
        int spe = (int)Trainer.StepsPerEpoch(trainSpec, train0.Count);

        // One generator for the teacher's initialisation and then its training, as manual_seed(seed) once served both.
        var teacherRandom = ParamInit.Seeded(seed);
        var teacher = ParamInit.Build(teacherRandom, () => Build(w.TeacherFamily, w.TeacherConfig));
        if (_s.TeacherSteps > 0)
        {
            var spec = trainSpec with { Steps = _s.TeacherSteps };
            using var optimizer = OptimizerFactory.Create(spec, teacher.parameters());
            var session = new TrainingSession("teacher", teacher, new CrossEntropyObjective(), optimizer, _s.TeacherSteps, teacherRandom);
            new Trainer(spec, []).Fit(session, train0, new SubsetDataset(test, [0]), 1, torch.CPU);
        }
        double teacherAccuracy = Evaluator.Evaluate(teacher, test, 1000, torch.CPU)["accuracy"];
        string evalIndices = Path.Combine(work, "eval_indices.bin");
        BenchFiles.WriteInt32(evalIndices, Enumerable.Range(0, test.Count));

        // Repetition r uses seed 42 + r for the student's and projectors' initialisation, the training subset and the
        // example order (the teacher is the same): the spread over repetitions includes seed-to-seed variation.
        BenchJob ForRep(int rep)
        {
            long s = seed + rep;
            var data = rep == 0 ? data0 : repData(rep);
            if (data.Map.Length != train0.Count)
                throw new InvalidOperationException($"bench: repetition {rep} has {data.Map.Length} training examples, repetition 0 has {train0.Count}.");
            var init = ParamInit.Seeded(s); // the student's, then the projectors' initialisation
            var student = ParamInit.Build(init, () => Build(w.StudentFamily, w.StudentConfig));
            var shapes = ShapeProbe.Measure(student, teacher, kind.Inputs(BenchWorker.DataSpecOf(data.Data)));
            var terms = ParamInit.Build(init, () => w.Terms.Select(t => LossRegistry.Default.Create(t, shapes)).ToList());
            var tensors = BenchFiles.Prefixed(teacher, "teacher.").Concat(BenchFiles.Prefixed(student, "student."));
            foreach (var term in terms)
                if (term.Trainable is { } projector) tensors = tensors.Concat(BenchFiles.Prefixed(projector, $"projector.{term.Name}."));
            string weights = Path.Combine(work, $"weights-{rep}.safetensors");
            SafeTensors.Save(weights, new Dictionary<string, Tensor>(tensors));
            int orderEpochs = Math.Max(_s.Epochs, (_s.RssSteps + spe - 1) / spe);
            string orders = Path.Combine(work, $"orders-{rep}.bin");
            BenchFiles.WriteInt32(orders, Orders(data.Map, s, orderEpochs, spe, batch));
            return Job(w, _s.Threads, s, spe, data.Data, Terms(terms), weights, orders, evalIndices);
        }

        var jobs = Enumerable.Range(0, _s.Reps).Select(ForRep).ToList();
        return new Prepared(jobs, train0.Count, spe, teacherAccuracy, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Image data: both sides read the original files; the worker draws repetition r's subset itself (seed 42 + r).</summary>
    private Func<int, RepData> ImageData()
    {
        var w = _s.Workload;
        var data = new BenchData(w.Dataset, _s.DataDir, w.Mean, w.Std, _s.TrainLimit, null, w.EvalSplit);
        int count = BenchWorker.DataKind(w.Dataset).Open(BenchWorker.DataSpecOf(data), "train").Count;
        return rep => new RepData(data, SubsetIndices(count, _s.TrainLimit, w.Train.Seed + rep));
    }

    /// <summary>
    /// Text data: repetition r's training subset (seed 42 + r) and the evaluation split are tokenized with Distill's
    /// BERT tokenizer (max_length, as <see cref="Sst2Dataset"/> does) and written, padded to max_length, into
    /// <c>work/tokens-r/</c>. Only the subset is tokenized, not the whole training split.
    /// </summary>
    private Func<int, RepData> TokenizedData(string work)
    {
        var w = _s.Workload;
        var tokenizer = BertTextTokenizer.FromFolder(_s.TokenizerDir ?? throw new ArgumentException($"bench: workload {w.Name} needs a tokenizer folder."));
        var rows = Sst2Dataset.ReadTsv(Path.Combine(_s.DataDir, "train.tsv"));
        var evalRows = Sst2Dataset.ReadTsv(Path.Combine(_s.DataDir, w.EvalSplit + ".tsv"));
        void Write(string path, IReadOnlyList<(int Label, string Text)> examples) =>
            BenchTokenDataset.Write(path, [.. examples.Select(e => tokenizer.Encode(e.Text, maxLength: w.MaxLength))], [.. examples.Select(e => e.Label)],
                w.MaxLength, tokenizer.PadTokenId, 2);
        return rep =>
        {
            string dir = Path.Combine(work, $"tokens-{rep}");
            Directory.CreateDirectory(dir);
            int[] subset = SubsetIndices(rows.Count, _s.TrainLimit, w.Train.Seed + rep);
            Write(BenchTokenDataset.SplitFile(dir, "train"), [.. subset.Select(i => rows[i])]);
            Write(BenchTokenDataset.SplitFile(dir, w.EvalSplit), evalRows);
            return new RepData(new BenchData(BenchTokenDataset.Key, dir, [], [], null, null, w.EvalSplit, w.MaxLength), Enumerable.Range(0, subset.Length).ToArray());
        };
    }

    private static DistillModel Build(string family, IModelConfig config) => ModelRegistry.Default.Get(family).Build(config);

    private BenchResult RunOne(string side, BenchJob job, string work, int rep, string tag, int reps)
    {
        string name = $"{tag}-{rep}-{side}-{job.Variant}";
        string jobPath = Path.Combine(work, name + ".json"), resultPath = Path.Combine(work, name + ".result.json");
        if (job.Variant == "cache") job = job with { CacheDir = Path.Combine(work, name + "-cache") };
        File.WriteAllText(jobPath, JsonSerializer.Serialize(job, BenchJob.Json));
        var psi = side == "distill" ? _distillWorker(jobPath, resultPath) : new ProcessStartInfo(_s.Python) { ArgumentList = { _s.Peer, jobPath, "--result", resultPath } };
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        string threads = _s.Threads.ToString(CultureInfo.InvariantCulture);
        psi.Environment["OMP_NUM_THREADS"] = threads;
        psi.Environment["MKL_NUM_THREADS"] = threads;
        psi.Environment["OPENBLAS_NUM_THREADS"] = threads;
        double loadBefore = ProcStatus.LoadAverage()[0];
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0 || !File.Exists(resultPath))
            throw new InvalidOperationException($"bench run {name} failed (exit {process.ExitCode}):\n{Tail(stdout.Result + stderr.Result)}");
        var result = JsonSerializer.Deserialize<BenchResult>(File.ReadAllText(resultPath), BenchJob.Json)!;
        result.LoadBefore = loadBefore;
        result.Rep = rep;
        result.Tag = tag;
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{tag} {rep + 1}/{reps}] {side,-7} {job.Variant,-5} step {BenchReport.StepMs(result),7:F2} ms  job {result.JobSeconds,6:F1} s  " +
            $"peak RSS {result.PeakRssMb,6:F0} MB  loss {BenchReport.FinalLoss(result):F4}  acc {result.Accuracy:F4}  (load {loadBefore:F1}→{result.LoadAverage.FirstOrDefault():F1})"));
        return result;
    }

    private static string Tail(string text) => text.Length <= 3000 ? text : "…" + text[^3000..];
}
