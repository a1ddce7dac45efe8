using Distill;
using Distill.Cli;
using Distill.Cli.Commands;

ICommand[] commands = [new RunCommand(), new ValidateCommand(), new ForwardCommand(), new ExportCommand(), new ProfileCommand(), new BenchCommand()];

string Overview() =>
    "distill — knowledge distillation and model compression on TorchSharp\n\n" +
    "Usage: distill <command> [options]\n\nCommands:\n" +
    string.Join("\n", commands.Select(c => $"  {c.Name,-10} {c.Summary}")) +
    "\n\nRun 'distill <command> --help' for a command's options.\n" +
    "Exit codes: 0 success, 1 failure during a run, 2 invalid input (recipe, checkpoint, data, flags).";

if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
{
    Console.WriteLine(Overview());
    return args.Length == 0 ? ExitCodes.InvalidInput : ExitCodes.Success;
}
var command = commands.FirstOrDefault(c => c.Name == args[0]);
if (command is null)
{
    Console.Error.WriteLine($"error: unknown command '{args[0]}'.\n");
    Console.Error.WriteLine(Overview());
    return ExitCodes.InvalidInput;
}
var rest = args.Skip(1).ToList();
if (rest.Contains("--help") || rest.Contains("-h"))
{
    Console.WriteLine(command.Help);
    return ExitCodes.Success;
}
try
{
    return command.Execute(rest);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}\n");
    Console.Error.WriteLine(command.Help);
    return ExitCodes.InvalidInput;
}
catch (InvalidInputException e)
{
    // The one place bad input becomes exit code 2: the message names the file, the problem and the fix.
    Console.Error.WriteLine($"error: {ErrorText.Of(e)}");
    return ExitCodes.InvalidInput;
}
