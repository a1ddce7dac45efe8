using Distill;
using Distill.Cli;
using Distill.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

// Parsing, --help and usage errors come from Spectre.Console.Cli; each command's details and the exit codes are the
// help footer (DistillHelpProvider). Exceptions propagate so that usage errors map to exit code 2 here.
NativeAllocator.Configure(); // before any tensor is allocated: DISTILL_MALLOC_TRIM=1 fixes glibc's thresholds (see its doc)
var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
if (Console.IsOutputRedirected) console.Profile.Width = 120; // logs and pipes: wrap help at a readable width, not 80
var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("distill");
    config.ConfigureConsole(console);
    config.PropagateExceptions();
    config.UseStrictParsing();
    config.SetHelpProvider(new DistillHelpProvider(config.Settings));
    config.AddCommand<RunCommand>("run").WithDescription(RunCommand.Summary)
        .WithExample("run", "recipes/quickstart.yaml").WithExample("run", "recipes/bert-sst2.yaml", "--set", "train.lr=0.001", "--out", "runs/lr");
    config.AddCommand<ValidateCommand>("validate").WithDescription(ValidateCommand.Summary)
        .WithExample("validate", "recipes/quickstart.yaml");
    config.AddCommand<EvalCommand>("eval").WithDescription(EvalCommand.Summary)
        .WithExample("eval", "runs/quickstart/models/distill", "--recipe", "recipes/quickstart.yaml", "--out", "metrics.json");
    config.AddCommand<PredictCommand>("predict").WithDescription(PredictCommand.Summary)
        .WithExample("predict", "runs/text-classification/models/baseline", "--recipe", "recipes/text-classification.yaml", "--input", "reviews.txt", "--out", "predictions.jsonl");
    config.AddCommand<ForwardCommand>("forward").WithDescription(ForwardCommand.Summary)
        .WithExample("forward", "--model", "<hf-folder>", "--inputs", "in.safetensors", "--out", "out.safetensors");
    config.AddCommand<ExportCommand>("export").WithDescription(ExportCommand.Summary)
        .WithExample("export", "runs/bert-sst2", "--stage", "distill", "--out", "exported/bert-student")
        .WithExample("export", "runs/bert-sst2", "--stage", "distill", "--format", "onnx", "--out", "deploy/bert-student.onnx");
    config.AddBranch("import", import =>
    {
        import.SetDescription("bring a model from another format in as a HuggingFace folder (formats: onnx)");
        import.AddCommand<ImportOnnxCommand>("onnx").WithDescription(ImportOnnxCommand.Summary)
            .WithExample("import", "onnx", "model.onnx", "--out", "models/my-bert", "--vocab", "vocab.txt");
    });
    config.AddBranch("cache", cache =>
    {
        cache.SetDescription("build the teacher-output cache outside a run, in shards on several machines (build, merge)");
        cache.AddCommand<CacheBuildCommand>("build").WithDescription(CacheBuildCommand.Summary)
            .WithExample("cache", "build", "recipes/my-recipe.yaml", "--shard", "0/8");
        cache.AddCommand<CacheMergeCommand>("merge").WithDescription(CacheMergeCommand.Summary)
            .WithExample("cache", "merge", "recipes/my-recipe.yaml");
    });
    config.AddCommand<ProfileCommand>("profile").WithDescription(ProfileCommand.Summary)
        .WithExample("profile", "recipes/hakd-mnist.yaml", "--all");
    config.AddCommand<BenchCommand>("bench").WithDescription(BenchCommand.Summary)
        .WithExample("bench", "--workload", "bert-sst2", "--reps", "3");
});

if (args.Length == 0)
{
    app.Run(["--help"]);
    return ExitCodes.InvalidInput;
}
try
{
    return app.Run(args);
}
catch (InvalidInputException e)
{
    // The one place bad input becomes exit code 2: the message names the file, the problem and the fix.
    Console.Error.WriteLine($"error: {ErrorText.Of(e)}");
    return ExitCodes.InvalidInput;
}
catch (Exception e) when (e is CommandAppException or UsageException)
{
    // CommandParseException / CommandRuntimeException: unknown command or option, missing argument, bad value.
    string? command = args.FirstOrDefault(a => !a.StartsWith('-'));
    // The first word is a command unless Spectre names that very word as the unknown command.
    bool known = command is not null && e.Message != $"Unknown command '{command}'.";
    string message = WithDashes(e.Message, args);
    // Spectre reads a stray word after a command without arguments as a sub-command.
    if (known && message.StartsWith("Unknown command '", StringComparison.Ordinal))
        message = command == "import"
            ? $"'distill import' reads the formats: onnx; not {message["Unknown command ".Length..].TrimEnd('.')}."
            : command == "cache"
            ? $"'distill cache' has the commands build and merge; not {message["Unknown command ".Length..].TrimEnd('.')}."
            : $"'distill {command}' takes no argument {message["Unknown command ".Length..].TrimEnd('.')}.";
    Console.Error.WriteLine($"error: {message}");
    Console.Error.WriteLine(known ? $"Run 'distill {command} --help' for its options." : "Run 'distill --help' for the commands.");
    return ExitCodes.InvalidInput;
}

// Spectre names an unknown option without its dashes ("Unknown option 'sett'"): name it as it was typed.
static string WithDashes(string message, string[] args)
{
    const string prefix = "Unknown option '";
    if (!message.StartsWith(prefix, StringComparison.Ordinal)) return message;
    string name = message[prefix.Length..message.IndexOf('\'', prefix.Length)];
    string typed = args.FirstOrDefault(a => a.TrimStart('-').Split('=')[0] == name && a.StartsWith('-')) ?? name;
    return prefix + typed.Split('=')[0] + message[(prefix.Length + name.Length)..];
}
