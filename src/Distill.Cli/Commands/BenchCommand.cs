using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Distill.Bench;
using Spectre.Console.Cli;

namespace Distill.Cli.Commands;

/// <summary>
/// <c>distill bench</c>: the same distillation workload in Distill and in the PyTorch peer (<c>bench/torch_peer.py</c>,
/// Debian's python3-torch with OpenBLAS), with the same models, initial weights, data order, batch, threads and seed,
/// one process per run, interleaved over several repetitions. The work is done by <see cref="BenchRunner"/> (workloads:
/// <see cref="BenchWorkload"/>); this command parses the options, checks the peer, and runs itself in worker mode
/// (<c>--worker job.json --result r.json</c>, <see cref="BenchWorker"/>) for every Distill run, so that each run's peak
/// RSS is its own and the CLI's GC settings apply. Never run by the tests or CI: it takes minutes and needs bench/setup.sh.
/// </summary>
public sealed class BenchCommand : Command<BenchCommand.Settings>
{
    public const string Summary = "benchmark distillation against a PyTorch peer (needs bench/setup.sh; takes minutes)";

    public static string Details => $"""
        Runs one distillation workload in Distill and in bench/torch_peer.py (plain PyTorch modules written to the same
        math): same initial weights (exported from Distill), same examples in the same order, same batch, AdamW, LR
        schedule, clipping, loss terms and thread count. Each run is its own process; Distill and PyTorch alternate
        within every repetition. Workloads (defaults: epochs / train-limit / teacher-steps / rss-steps):
        {string.Join("\n", BenchWorkload.All.Select(w => $"  {w.Name,-12} {w.Description}\n               ({w.Epochs} / {(w.TrainLimit is { } n ? n.ToString("N0", CultureInfo.InvariantCulture) : "all")} / {w.TeacherSteps} / {w.RssSteps}; {w.Recipe})"))}
        Variants (Distill side):
          kd     teacher forward every step, fp32 (compared with the PyTorch peer doing the same)
          cache  fp16 teacher-output cache built at the start (its time counts), then the same training
          bf16   student, projectors and teacher in bfloat16 with fp32 master weights
        Then one long run per side (--rss-steps, 0 = skip) samples RSS to check that it stays flat.

        Writes <out>/<workload>-<utc time>.json (every run's raw step times, losses and RSS samples) and .md (the
        table), and copies them to <out>/latest.json / latest.md. Records the load average of every run.
        Needs the PyTorch peer: run bench/setup.sh once (Debian python3-torch + libopenblas0-openmp).
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--workload <NAME>")] [Description("quickstart (default), bert-sst2, vit-cifar10")] public string? Workload { get; init; }
        [CommandOption("--reps <N>")] [Description("repetitions of each variant (3)")] public string? Reps { get; init; }
        [CommandOption("--epochs <N>")] [Description("epochs per run (the workload's)")] public string? Epochs { get; init; }
        [CommandOption("--threads <N>")] [Description("intra-op threads on both sides (2)")] public string? Threads { get; init; }
        [CommandOption("--variants <LIST>")] [Description("comma-separated subset of kd,cache,bf16 (all)")] public string? Variants { get; init; }
        [CommandOption("--rss-steps <N>")] [Description("steps of the long RSS run per side (the workload's; 0 = skip)")] public string? RssSteps { get; init; }
        [CommandOption("--train-limit <N>")] [Description("train on the first n examples of a seeded shuffle (the workload's)")] public string? TrainLimit { get; init; }
        [CommandOption("--teacher-steps <N>")] [Description("cross-entropy steps to train the teacher before the runs (the workload's; 0 = at init)")] public string? TeacherSteps { get; init; }
        [CommandOption("--out <DIR>")] [Description("results folder (bench/results)")] public string? Out { get; init; }
        [CommandOption("--python <PATH>")] [Description("interpreter with Debian's torch (/usr/bin/python3)")] public string? Python { get; init; }
        [CommandOption("--peer <PATH>")] [Description("the PyTorch peer script (bench/torch_peer.py, found from the current folder up)")] public string? Peer { get; init; }
        [CommandOption("--data <DIR>")] [Description("data folder (the workload's: data/mnist, data/sst2, data/cifar10; found from the current folder up)")] public string? Data { get; init; }
        [CommandOption("--tokenizer <DIR>")] [Description("BERT tokenizer folder for bert-sst2 (data/bert-base-uncased-tokenizer)")] public string? Tokenizer { get; init; }
        [CommandOption("--report <FILE>")] [Description("render the table of a saved bench JSON again (next to it, as .md); runs nothing")] public string? Report { get; init; }
        [CommandOption("--deploy <ONNX>")] [Description("re-time an exported .onnx graph in ONNX Runtime on synthetic inputs (with --batch, --sequence, --samples, --threads); runs nothing else")] public string? Deploy { get; init; }
        [CommandOption("--batch <N>")] [Description("--deploy: batch size (1)")] public int Batch { get; init; } = 1;
        [CommandOption("--sequence <N>")] [Description("--deploy: tokens per text input (128)")] public int Sequence { get; init; } = 128;
        [CommandOption("--samples <N>")] [Description("--deploy: audio samples per input (16000)")] public int Samples { get; init; } = 16000;
        [CommandOption("--worker <JOB>", IsHidden = true)] public string? Worker { get; init; }
        [CommandOption("--result <FILE>", IsHidden = true)] public string? Result { get; init; }
    }

    public override int Execute(CommandContext context, Settings p, CancellationToken cancellationToken)
    {
        if (p.Worker is { } workerJob)
        {
            BenchWorker.Run(workerJob, p.Result ?? throw new UsageException("--worker needs --result <file>."));
            return ExitCodes.Success;
        }
        if (p.Deploy is { } onnx)
        {
            if (p.Batch < 1 || p.Sequence < 1 || p.Samples < 1) throw new UsageException("--batch, --sequence and --samples must be at least 1.");
            int threads = p.Threads is null ? 1 : int.TryParse(p.Threads, out int t) && t >= 1 ? t : throw new UsageException($"--threads must be a whole number ≥ 1, got '{p.Threads}'.");
            Console.WriteLine(Distill.Onnx.Runtime.OnnxDeployBench.Time(onnx, p.Batch, p.Sequence, p.Samples, threads));
            return ExitCodes.Success;
        }
        if (p.Report is { } saved)
        {
            Console.WriteLine(BenchRunner.Rerender(saved));
            return ExitCodes.Success;
        }

        BenchWorkload workload;
        try { workload = BenchWorkload.Get(p.Workload ?? "quickstart"); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var variants = (p.Variants ?? string.Join(",", BenchSettings.AllVariants)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var v in variants)
            if (!BenchSettings.AllVariants.Contains(v)) throw new UsageException($"Unknown variant '{v}'. Variants: {string.Join(", ", BenchSettings.AllVariants)}.");
        string peer = p.Peer ?? FindUp(Path.Combine("bench", "torch_peer.py"))
            ?? throw new UsageException("Cannot find bench/torch_peer.py above the current folder; pass --peer <path>.");
        string data = p.Data ?? FindUp(workload.DataFolder)
            ?? throw new UsageException($"Cannot find {workload.DataFolder} above the current folder; pass --data <folder>.");
        string? tokenizer = workload.TokenizerFolder is null ? null : p.Tokenizer ?? FindUp(workload.TokenizerFolder)
            ?? throw new UsageException($"Cannot find {workload.TokenizerFolder} above the current folder; pass --tokenizer <folder>.");
        var settings = new BenchSettings
        {
            Workload = workload,
            Reps = Int(p.Reps, "--reps", 3, 1),
            Epochs = Int(p.Epochs, "--epochs", workload.Epochs, 1),
            Threads = Int(p.Threads, "--threads", 2, 1),
            Variants = variants,
            RssSteps = Int(p.RssSteps, "--rss-steps", workload.RssSteps, 0),
            TrainLimit = p.TrainLimit is null ? workload.TrainLimit : Int(p.TrainLimit, "--train-limit", 0, 1),
            TeacherSteps = Int(p.TeacherSteps, "--teacher-steps", workload.TeacherSteps, 0),
            DataDir = Path.GetFullPath(data),
            TokenizerDir = tokenizer is null ? null : Path.GetFullPath(tokenizer),
            OutDir = Path.GetFullPath(p.Out ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(peer))!)!, "bench", "results")),
            Python = p.Python ?? "/usr/bin/python3",
            Peer = Path.GetFullPath(peer),
        };

        string? torchVersion = CheckPeer(settings.Python);
        if (torchVersion is null) return ExitCodes.InvalidInput;
        new BenchRunner(settings, DistillWorker, Console.Out).Run("distill bench " + string.Join(" ", context.Arguments), torchVersion);
        return ExitCodes.Success;
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

    private static int Int(string? text, string name, int fallback, int min)
    {
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < min)
            throw new UsageException($"{name} needs a whole number ≥ {min}, got '{text}'.");
        return v;
    }

    private static string Tail(string text) => text.Length <= 3000 ? text : "…" + text[^3000..];
}
