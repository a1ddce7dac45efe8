using System.Diagnostics;
using System.Globalization;
using Distill.Bench;

namespace Distill.Cli.Commands;

/// <summary>
/// <c>distill bench</c>: the same distillation workload in Distill and in the PyTorch peer (<c>bench/torch_peer.py</c>,
/// Debian's python3-torch with OpenBLAS), with the same models, initial weights, data order, batch, threads and seed,
/// one process per run, interleaved over several repetitions. The work is done by <see cref="BenchRunner"/> (workloads:
/// <see cref="BenchWorkload"/>); this command parses the options, checks the peer, and runs itself in worker mode
/// (<c>--worker job.json --result r.json</c>, <see cref="BenchWorker"/>) for every Distill run, so that each run's peak
/// RSS is its own and the CLI's GC settings apply. Never run by the tests or CI: it takes minutes and needs bench/setup.sh.
/// </summary>
public sealed class BenchCommand : ICommand
{
    public string Name => "bench";

    public string Summary => "benchmark distillation against a PyTorch peer (needs bench/setup.sh; takes minutes)";

    public string Help => $"""
        Usage: distill bench [--workload quickstart|bert-sst2|vit-cifar10] [--reps 3] [--epochs N] [--threads 2]
                             [--variants kd,cache,bf16] [--rss-steps N] [--train-limit N] [--teacher-steps N]
                             [--out bench/results] [--python /usr/bin/python3] [--peer bench/torch_peer.py]
                             [--data <folder>] [--tokenizer <folder>]

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

        Options:
          --workload <name>     quickstart (default), bert-sst2, vit-cifar10
          --reps <n>            repetitions of each variant (3)
          --epochs <n>          epochs per run (the workload's)
          --threads <n>         intra-op threads on both sides (2)
          --variants <list>     comma-separated subset of kd,cache,bf16 (all)
          --rss-steps <n>       steps of the long RSS run per side (the workload's; 0 = skip)
          --train-limit <n>     train on the first n examples of a seeded shuffle (the workload's)
          --teacher-steps <n>   cross-entropy steps to train the teacher before the runs (the workload's; 0 = at init)
          --out <dir>           results folder (bench/results)
          --python <path>       interpreter with Debian's torch (/usr/bin/python3)
          --peer <path>         the PyTorch peer script (bench/torch_peer.py, found from the current folder up)
          --data <dir>          data folder (the workload's: data/mnist, data/sst2, data/cifar10; found from the current folder up)
          --tokenizer <dir>     BERT tokenizer folder for bert-sst2 (data/bert-base-uncased-tokenizer)
          --report <file.json>  render the table of a saved bench again (next to it, as .md); runs nothing
        """;

    public int Execute(IReadOnlyList<string> args)
    {
        var p = ParsedArgs.Parse(args,
            new HashSet<string>
            {
                "--workload", "--reps", "--epochs", "--threads", "--variants", "--rss-steps", "--train-limit", "--teacher-steps", "--out", "--python",
                "--peer", "--data", "--tokenizer", "--worker", "--result", "--report",
            },
            new HashSet<string>());
        if (p.Single("--worker") is { } workerJob)
        {
            BenchWorker.Run(workerJob, p.Single("--result") ?? throw new UsageException("--worker needs --result <file>."));
            return ExitCodes.Success;
        }
        if (p.Single("--report") is { } saved)
        {
            Console.WriteLine(BenchRunner.Rerender(saved));
            return ExitCodes.Success;
        }
        if (p.Positionals.Count > 0) throw new UsageException($"bench takes no positional arguments (got '{p.Positionals[0]}').");

        BenchWorkload workload;
        try { workload = BenchWorkload.Get(p.Single("--workload") ?? "quickstart"); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var variants = (p.Single("--variants") ?? string.Join(",", BenchSettings.AllVariants)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var v in variants)
            if (!BenchSettings.AllVariants.Contains(v)) throw new UsageException($"Unknown variant '{v}'. Variants: {string.Join(", ", BenchSettings.AllVariants)}.");
        string peer = p.Single("--peer") ?? FindUp(Path.Combine("bench", "torch_peer.py"))
            ?? throw new UsageException("Cannot find bench/torch_peer.py above the current folder; pass --peer <path>.");
        string data = p.Single("--data") ?? FindUp(workload.DataFolder)
            ?? throw new UsageException($"Cannot find {workload.DataFolder} above the current folder; pass --data <folder>.");
        string? tokenizer = workload.TokenizerFolder is null ? null : p.Single("--tokenizer") ?? FindUp(workload.TokenizerFolder)
            ?? throw new UsageException($"Cannot find {workload.TokenizerFolder} above the current folder; pass --tokenizer <folder>.");
        var settings = new BenchSettings
        {
            Workload = workload,
            Reps = Int(p, "--reps", 3, 1),
            Epochs = Int(p, "--epochs", workload.Epochs, 1),
            Threads = Int(p, "--threads", 2, 1),
            Variants = variants,
            RssSteps = Int(p, "--rss-steps", workload.RssSteps, 0),
            TrainLimit = p.Single("--train-limit") is null ? workload.TrainLimit : Int(p, "--train-limit", 0, 1),
            TeacherSteps = Int(p, "--teacher-steps", workload.TeacherSteps, 0),
            DataDir = Path.GetFullPath(data),
            TokenizerDir = tokenizer is null ? null : Path.GetFullPath(tokenizer),
            OutDir = Path.GetFullPath(p.Single("--out") ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(peer))!)!, "bench", "results")),
            Python = p.Single("--python") ?? "/usr/bin/python3",
            Peer = Path.GetFullPath(peer),
        };

        string? torchVersion = CheckPeer(settings.Python);
        if (torchVersion is null) return ExitCodes.InvalidInput;
        new BenchRunner(settings, DistillWorker, Console.Out).Run("distill bench " + string.Join(" ", args), torchVersion);
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

    private static int Int(ParsedArgs p, string name, int fallback, int min)
    {
        string? text = p.Single(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < min)
            throw new UsageException($"{name} needs a whole number ≥ {min}, got '{text}'.");
        return v;
    }

    private static string Tail(string text) => text.Length <= 3000 ? text : "…" + text[^3000..];
}
