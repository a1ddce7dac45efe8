using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Distill.Checkpoints;
using Distill.Data;
using Distill.Data.Mnist;
using Distill.Losses;
using Distill.Models;
using Distill.Models.Cnn;
using Distill.Recipes;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Cli.Commands;

/// <summary>
/// <c>distill bench</c>: the same distillation workload in Distill and in the PyTorch peer (<c>bench/torch_peer.py</c>,
/// Debian's python3-torch with OpenBLAS), with the same models, initial weights, data order, batch, threads and seed,
/// one process per run, interleaved over several repetitions. Prints and writes (JSON + markdown) medians, spreads and
/// Distill/PyTorch ratios of step time, epoch time, peak RSS, final loss, plus the teacher-cache job, bf16 and RSS
/// growth. Never run by the tests or CI: it takes minutes and needs bench/setup.sh.
/// </summary>
public sealed class BenchCommand : ICommand
{
    public string Name => "bench";

    public string Summary => "benchmark distillation against a PyTorch peer (needs bench/setup.sh; takes minutes)";

    public string Help => """
        Usage: distill bench [--workload quickstart] [--reps 3] [--epochs 3] [--threads 2] [--variants kd,cache,bf16]
                             [--rss-steps 2000] [--train-limit N] [--teacher-steps 300] [--out bench/results]
                             [--python /usr/bin/python3] [--peer bench/torch_peer.py] [--data data/mnist]

        Runs the quickstart distillation (cnn [16,32]/128 -> cnn [4,8]/32 on MNIST, soft_target T=4 alpha=0.9 + hint
        blocks.1 -> blocks.1 through a 1x1 conv) in Distill and in bench/torch_peer.py: same initial weights (exported
        from Distill), same example order, batch 128, AdamW, cosine schedule, gradient clipping, thread count. Each run
        is its own process; Distill and PyTorch alternate within every repetition. Variants (Distill side):
          kd     teacher forward every step, fp32 (compared with the PyTorch peer doing the same)
          cache  fp16 teacher-output cache built at the start (its time counts), then the same training
          bf16   student, projector and teacher in bfloat16 with fp32 master weights
        Then one long run per side (--rss-steps, 0 = skip) samples RSS to check that it stays flat.

        Writes <out>/<workload>-<utc time>.json (every run's raw step times, losses and RSS samples) and .md (the
        table), and copies them to <out>/latest.json / latest.md. Records the load average of every run.
        Needs the PyTorch peer: run bench/setup.sh once (Debian python3-torch + libopenblas0-openmp).

        Options:
          --workload <name>     quickstart (default)
          --reps <n>            repetitions of each variant (3)
          --epochs <n>          epochs per run (3)
          --threads <n>         intra-op threads on both sides (2)
          --variants <list>     comma-separated subset of kd,cache,bf16 (all)
          --rss-steps <n>       steps of the long RSS run per side (2000; 0 = skip)
          --train-limit <n>     train on the first n examples of a seeded shuffle (all 60,000)
          --teacher-steps <n>   cross-entropy steps to train the teacher before the runs (300)
          --out <dir>           results folder (bench/results)
          --python <path>       interpreter with Debian's torch (/usr/bin/python3)
          --peer <path>         the PyTorch peer script (bench/torch_peer.py, found from the current folder up)
          --data <dir>          MNIST folder (data/mnist, found from the current folder up)
          --report <file.json>  render the table of a saved bench again (next to it, as .md); runs nothing
        """;

    private static readonly string[] AllVariants = ["kd", "cache", "bf16"];

    public int Execute(IReadOnlyList<string> args)
    {
        var p = ParsedArgs.Parse(args,
            new HashSet<string> { "--workload", "--reps", "--epochs", "--threads", "--variants", "--rss-steps", "--train-limit", "--teacher-steps", "--out", "--python", "--peer", "--data", "--worker", "--result", "--report" },
            new HashSet<string>());
        if (p.Single("--worker") is { } workerJob)
            return BenchWorker.Run(workerJob, p.Single("--result") ?? throw new UsageException("--worker needs --result <file>."));
        if (p.Single("--report") is { } saved) return Rerender(saved);
        if (p.Positionals.Count > 0) throw new UsageException($"bench takes no positional arguments (got '{p.Positionals[0]}').");

        string workload = p.Single("--workload") ?? "quickstart";
        if (workload != "quickstart") throw new UsageException($"Unknown workload '{workload}'. Workloads: quickstart.");
        int reps = Int(p, "--reps", 3, 1), epochs = Int(p, "--epochs", 3, 1), threads = Int(p, "--threads", 2, 1);
        int rssSteps = Int(p, "--rss-steps", 2000, 0), teacherSteps = Int(p, "--teacher-steps", 300, 0);
        int? trainLimit = p.Single("--train-limit") is null ? null : Int(p, "--train-limit", 0, 1);
        var variants = (p.Single("--variants") ?? string.Join(",", AllVariants)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var v in variants)
            if (!AllVariants.Contains(v)) throw new UsageException($"Unknown variant '{v}'. Variants: {string.Join(", ", AllVariants)}.");
        string python = p.Single("--python") ?? "/usr/bin/python3";
        string peer = p.Single("--peer") ?? FindUp(Path.Combine("bench", "torch_peer.py"))
            ?? throw new UsageException("Cannot find bench/torch_peer.py above the current folder; pass --peer <path>.");
        string data = p.Single("--data") ?? FindUp(Path.Combine("data", "mnist"))
            ?? throw new UsageException("Cannot find data/mnist above the current folder; pass --data <MNIST folder>.");
        string outDir = Path.GetFullPath(p.Single("--out") ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(peer))!)!, "bench", "results"));

        string? torchVersion = CheckPeer(python);
        if (torchVersion is null) return ExitCodes.InvalidInput;

        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string work = Path.Combine(outDir, "work", $"{workload}-{stamp}");
        Directory.CreateDirectory(work);
        Console.WriteLine($"distill bench: {workload}, {reps} repetitions × [{string.Join(", ", variants)}], {epochs} epochs, {threads} threads; " +
                          $"PyTorch {torchVersion}; load {Load()}");

        torch.set_num_threads(threads);
        var prep = Prepare(work, Path.GetFullPath(data), trainLimit, epochs, reps, rssSteps, teacherSteps, threads);
        Console.WriteLine($"prepared: {prep.TrainCount} training examples, {prep.StepsPerEpoch} steps/epoch; teacher trained {teacherSteps} steps, " +
                          $"test accuracy {prep.TeacherAccuracy:F4} ({prep.PrepSeconds:F0} s)");

        var runs = new List<BenchResult>();
        long mainSteps = (long)epochs * prep.StepsPerEpoch;
        for (int rep = 0; rep < reps; rep++)
        {
            var plan = new List<(string Side, string Variant)>();
            if (variants.Contains("kd"))
                plan.AddRange(rep % 2 == 0 ? [("distill", "kd"), ("pytorch", "kd")] : [("pytorch", "kd"), ("distill", "kd")]);
            if (variants.Contains("cache")) plan.Add(("distill", "cache"));
            if (variants.Contains("bf16")) plan.Add(("distill", "bf16"));
            foreach (var (side, variant) in plan)
                runs.Add(RunOne(side, prep.Jobs[rep] with { Variant = variant, TotalSteps = mainSteps }, work, python, peer, threads, rep, "main", reps));
        }
        if (rssSteps > 0)
            foreach (var side in new[] { "distill", "pytorch" })
                runs.Add(RunOne(side, prep.Jobs[0] with { Variant = "kd", TotalSteps = rssSteps }, work, python, peer, threads, 0, "rss", 1));

        string command = "distill bench " + string.Join(" ", args);
        string created = DateTime.UtcNow.ToString("O");
        string markdown = Render(workload, command.TrimEnd(), created, ProcStatus.CpuModel(), Environment.ProcessorCount, torchVersion, threads, reps, epochs,
            rssSteps, teacherSteps, prep.TeacherAccuracy, prep.TrainCount, runs, out var rows);
        Console.WriteLine();
        Console.WriteLine(markdown);

        var report = new Dictionary<string, object?>
        {
            ["workload"] = workload, ["command"] = command.TrimEnd(), ["created_utc"] = created,
            ["machine"] = new Dictionary<string, object?> { ["cpu"] = ProcStatus.CpuModel(), ["cores"] = Environment.ProcessorCount, ["torch"] = torchVersion, ["dotnet"] = Environment.Version.ToString() },
            ["settings"] = new Dictionary<string, object?>
            {
                ["reps"] = reps, ["epochs"] = epochs, ["threads"] = threads, ["variants"] = variants, ["rss_steps"] = rssSteps,
                ["train_examples"] = prep.TrainCount, ["steps_per_epoch"] = prep.StepsPerEpoch, ["teacher_steps"] = teacherSteps, ["teacher_accuracy"] = prep.TeacherAccuracy,
            },
            ["rows"] = rows, ["runs"] = runs,
        };
        string json = JsonSerializer.Serialize(report, BenchJob.Json);
        string baseName = Path.Combine(outDir, $"{workload}-{stamp}");
        File.WriteAllText(baseName + ".json", json);
        File.WriteAllText(baseName + ".md", markdown);
        File.WriteAllText(Path.Combine(outDir, "latest.json"), json);
        File.WriteAllText(Path.Combine(outDir, "latest.md"), markdown);
        Directory.Delete(work, recursive: true);
        Console.WriteLine($"wrote {baseName}.json and .md (and latest.*)");
        return ExitCodes.Success;
    }

    /// <summary>The markdown table and its footer (command, time, machine, threads, repetitions, load range, teacher).</summary>
    private static string Render(string workload, string command, string createdUtc, string cpu, int cores, string torchVersion, int threads, int reps,
        int epochs, int rssSteps, int teacherSteps, double teacherAccuracy, int trainCount, IReadOnlyList<BenchResult> runs, out List<BenchReport.Row> rows)
    {
        rows = BenchReport.Rows(workload, runs, epochs, rssSteps);
        var loads = runs.Select(r => r.LoadBefore).Concat(runs.Select(r => r.LoadAverage.FirstOrDefault())).Where(double.IsFinite).ToList();
        string when = DateTime.Parse(createdUtc, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        double lo = loads.Count == 0 ? double.NaN : loads.Min(), hi = loads.Count == 0 ? double.NaN : loads.Max();
        string footer =
            FormattableString.Invariant($"Command: `{command}`. {when} UTC, {cpu}, {cores} cores, ") +
            FormattableString.Invariant($"{threads} threads per side, {reps} repetitions with seeds 42… (median, min–max), TorchSharp/libtorch vs Debian PyTorch {torchVersion} + OpenBLAS (OpenMP). ") +
            FormattableString.Invariant($"1-minute load average during the runs: {lo:F1}–{hi:F1} ") +
            "(the machine was shared with other jobs, so timings are noisy; the 10th-percentile rows show the work with less of the contention). " +
            FormattableString.Invariant($"Teacher trained {teacherSteps} steps (test accuracy {teacherAccuracy:F4}); {trainCount} training examples.");
        return BenchReport.Markdown(rows) + "\n" + footer + "\n";
    }

    /// <summary><c>--report file.json</c>: renders the table of a saved bench again (with this version's rows) next to the JSON.</summary>
    private static int Rerender(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var settings = root.GetProperty("settings");
        var machine = root.GetProperty("machine");
        var runs = root.GetProperty("runs").Deserialize<List<BenchResult>>(BenchJob.Json)!;
        string markdown = Render(root.GetProperty("workload").GetString()!, root.GetProperty("command").GetString()!.TrimEnd(),
            root.GetProperty("created_utc").GetString()!, machine.GetProperty("cpu").GetString()!, machine.GetProperty("cores").GetInt32(),
            machine.GetProperty("torch").GetString()!, settings.GetProperty("threads").GetInt32(), settings.GetProperty("reps").GetInt32(),
            settings.GetProperty("epochs").GetInt32(), settings.GetProperty("rss_steps").GetInt32(), settings.GetProperty("teacher_steps").GetInt32(),
            settings.GetProperty("teacher_accuracy").GetDouble(), settings.GetProperty("train_examples").GetInt32(), runs, out _);
        File.WriteAllText(Path.ChangeExtension(path, ".md"), markdown);
        Console.WriteLine(markdown);
        return ExitCodes.Success;
    }

    private sealed record Prepared(IReadOnlyList<BenchJob> Jobs, int TrainCount, int StepsPerEpoch, double TeacherAccuracy, double PrepSeconds);

    /// <summary>Trains the teacher briefly, draws the student's and projector's initial weights, and writes the weights, the example orders and the base job.</summary>
    private static Prepared Prepare(string work, string dataDir, int? trainLimit, int epochs, int reps, int rssSteps, int teacherSteps, int threads)
    {
        var clock = Stopwatch.StartNew();
        const long seed = 42;
        const int batch = 128;
        var dataSpec = new DataSpec
        {
            Dataset = "mnist", Path = dataDir, TrainLimit = trainLimit,
            Preprocessing = new PreprocessSpec { Mean = [0.1307], Std = [0.3081] },
        };
        var source = MnistDataset.Open(dataDir, "train", dataSpec.Preprocessing);
        var train = SubsetDataset.Limit(source, trainLimit, seed);
        var test = MnistDataset.Open(dataDir, "test", dataSpec.Preprocessing);
        var teacherConfig = new CnnConfig { Channels = [16, 32], HiddenSize = 128 };
        var studentConfig = new CnnConfig { Channels = [4, 8], HiddenSize = 32 };
        var trainSpec = new TrainSpec
        {
            Optimizer = OptimizerKind.Adamw, Lr = 0.002, WeightDecay = 0.01, Schedule = ScheduleKind.Cosine, WarmupSteps = 50,
            BatchSize = batch, GradClip = 5.0, Seed = seed,
        };
        int spe = (int)Trainer.StepsPerEpoch(trainSpec, train.Count);

        torch.manual_seed(seed);
        var teacher = new CnnModel(teacherConfig);
        double teacherAccuracy = double.NaN;
        if (teacherSteps > 0)
        {
            var spec = trainSpec with { Steps = teacherSteps };
            using var optimizer = OptimizerFactory.Create(spec, teacher.parameters());
            var session = new TrainingSession("teacher", teacher, new CrossEntropyObjective(), optimizer, teacherSteps);
            new Trainer(spec, []).Fit(session, train, new SubsetDataset(test, [0]), 1, torch.CPU);
        }
        teacherAccuracy = Evaluator.Evaluate(teacher, test, 1000, torch.CPU)["accuracy"];
        // Repetition r uses seed 42 + r for the student's and projector's initialisation, the training subset and the
        // example order (the teacher is the same): the spread over repetitions includes seed-to-seed variation.
        BenchJob ForRep(int rep)
        {
            long s = seed + rep;
            int[] subsetMap = trainLimit is { } n && n < source.Count ? Trainer.Permutation(source.Count, s, -1)[..n] : Enumerable.Range(0, source.Count).ToArray();
            torch.manual_seed(s);
            var student = new CnnModel(studentConfig);
            var shapes = ShapeProbe.Measure(student, teacher, MnistDataset.Kind.Inputs(dataSpec));
            var hint = (HintLoss)LossRegistry.Default.Create(new HintSpec { Name = "hint", Student = "blocks.1", Teacher = "blocks.1", Weight = 0.5 }, shapes);
            string weights = Path.Combine(work, $"weights-{rep}.safetensors");
            SafeTensors.Save(weights, new Dictionary<string, Tensor>(
                BenchFiles.Prefixed(teacher, "teacher.").Concat(BenchFiles.Prefixed(student, "student.")).Concat(BenchFiles.Prefixed(hint.Projector, "projector.hint."))));
            int orderEpochs = Math.Max(epochs, (rssSteps + spe - 1) / spe);
            string orders = Path.Combine(work, $"orders-{rep}.bin");
            BenchFiles.WriteInt32(orders, Enumerable.Range(0, orderEpochs)
                .SelectMany(e => Trainer.Permutation(train.Count, s, e).Take(spe * batch).Select(i => subsetMap[i])));
            string evalIndices = Path.Combine(work, "eval_indices.bin");
            BenchFiles.WriteInt32(evalIndices, Enumerable.Range(0, test.Count));
            return new BenchJob
            {
                Workload = "quickstart", Variant = "kd", Threads = threads, Seed = s, BatchSize = batch, StepsPerEpoch = spe, TotalSteps = spe,
                RssEvery = 50,
                Teacher = new BenchModel("cnn", JsonSerializer.SerializeToElement(teacherConfig)),
                Student = new BenchModel("cnn", JsonSerializer.SerializeToElement(studentConfig)),
                Data = new BenchData("mnist", dataDir, [0.1307], [0.3081], trainLimit, null),
                Train = new BenchTrain(trainSpec.Lr, trainSpec.WeightDecay, trainSpec.WarmupSteps, "cosine", trainSpec.GradClip),
                Terms = new BenchTerms(new BenchSoftTarget("kd", 1.0, 4, 0.9),
                    new BenchHint("hint", 0.5, "blocks.1", "blocks.1", hint.Projector.IsConvolution, hint.Projector.InFeatures, hint.Projector.OutFeatures)),
                Weights = weights, Orders = orders, EvalIndices = evalIndices,
            };
        }

        var jobs = Enumerable.Range(0, reps).Select(ForRep).ToList();
        return new Prepared(jobs, train.Count, spe, teacherAccuracy, clock.Elapsed.TotalSeconds);
    }

    private static BenchResult RunOne(string side, BenchJob job, string work, string python, string peer, int threads, int rep, string tag, int reps)
    {
        string name = $"{tag}-{rep}-{side}-{job.Variant}";
        string jobPath = Path.Combine(work, name + ".json"), resultPath = Path.Combine(work, name + ".result.json");
        if (job.Variant == "cache") job = job with { CacheDir = Path.Combine(work, name + "-cache") };
        File.WriteAllText(jobPath, JsonSerializer.Serialize(job, BenchJob.Json));
        var psi = side == "distill" ? DistillWorker(jobPath, resultPath) : new ProcessStartInfo(python) { ArgumentList = { peer, jobPath, "--result", resultPath } };
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        psi.Environment["MKL_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        psi.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
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
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{tag} {rep + 1}/{reps}] {side,-7} {job.Variant,-5} step {BenchReport.StepMs(result),7:F2} ms  job {result.JobSeconds,6:F1} s  " +
            $"peak RSS {result.PeakRssMb,6:F0} MB  loss {BenchReport.FinalLoss(result):F4}  acc {result.Accuracy:F4}  (load {loadBefore:F1}→{result.LoadAverage.FirstOrDefault():F1})"));
        return result;
    }

    /// <summary>This CLI again, in worker mode: through <c>dotnet distill.dll</c> or the apphost, whichever started us.</summary>
    private static ProcessStartInfo DistillWorker(string jobPath, string resultPath)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") psi.ArgumentList.Add(typeof(BenchCommand).Assembly.Location);
        foreach (var a in new[] { "bench", "--worker", jobPath, "--result", resultPath }) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>The peer's torch version, or null (with a message) when the interpreter has no torch or it falls back to reference BLAS.</summary>
    private static string? CheckPeer(string python)
    {
        const string probe = "import time, torch; torch.set_num_threads(2); a = torch.randn(512, 512); a @ a; t = time.perf_counter(); a @ a; print(torch.__version__, time.perf_counter() - t)";
        try
        {
            var psi = new ProcessStartInfo(python) { ArgumentList = { "-c", probe }, RedirectStandardOutput = true, RedirectStandardError = true };
            using var proc = Process.Start(psi)!;
            string output = proc.StandardOutput.ReadToEnd();
            string error = proc.StandardError.ReadToEnd();
            proc.WaitForExit();
            var parts = output.Trim().Split(' ');
            if (proc.ExitCode != 0 || parts.Length != 2)
            {
                Console.Error.WriteLine($"error: {python} cannot import torch ({Tail(error).Trim()}). Run bench/setup.sh (Debian python3-torch + libopenblas0-openmp), or pass --python.");
                return null;
            }
            if (double.Parse(parts[1], CultureInfo.InvariantCulture) > 0.25)
            {
                Console.Error.WriteLine($"error: a 512x512 matmul takes {double.Parse(parts[1], CultureInfo.InvariantCulture) * 1000:F0} ms in {python}'s torch: it uses the " +
                                        "reference BLAS, which makes the comparison meaningless. Run bench/setup.sh (installs libopenblas0-openmp).");
                return null;
            }
            return parts[0];
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"error: cannot run {python} ({e.Message}). Run bench/setup.sh or pass --python.");
            return null;
        }
    }

    private static string? FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static int Int(ParsedArgs p, string name, int fallback, int min)
    {
        string? text = p.Single(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < min)
            throw new UsageException($"{name} needs a whole number ≥ {min}, got '{text}'.");
        return v;
    }

    private static string Load() => ProcStatus.LoadAverage()[0].ToString("F1", CultureInfo.InvariantCulture);

    private static string Tail(string text) => text.Length <= 3000 ? text : "…" + text[^3000..];
}
