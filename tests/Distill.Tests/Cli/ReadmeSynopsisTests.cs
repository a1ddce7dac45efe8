using Distill.Cli.Commands;
using Xunit;

namespace Distill.Tests.Cli;

/// <summary>Issue 18, row 8: the README's command synopsis is each command's own usage line, options included.</summary>
public class ReadmeSynopsisTests
{
    [Fact]
    public void TheReadmeSynopsisHasEveryCommandsUsageLine()
    {
        string readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        foreach (var command in new Distill.Cli.ICommand[] { new RunCommand(), new ValidateCommand(), new ForwardCommand(), new ExportCommand(), new ProfileCommand() })
        {
            string usage = command.Help.Split('\n')[0].Trim();
            Assert.StartsWith("Usage: ", usage);
            Assert.Contains(usage["Usage: ".Length..], readme);
        }
    }
}
