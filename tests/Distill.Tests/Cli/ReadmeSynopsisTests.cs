using System.Text.RegularExpressions;
using Xunit;

namespace Distill.Tests.Cli;

/// <summary>
/// Issue 18, row 8: the README's command synopsis names every option each command's generated --help lists (the
/// bench, whose synopsis points at its own section, aside).
/// </summary>
[Collection(SerialCollection.Name)]
public partial class ReadmeSynopsisTests
{
    [GeneratedRegex(@"^\s+(?:-\w, )?(?<option>--[a-z][a-z-]*)", RegexOptions.Multiline)]
    private static partial Regex OptionLine();

    [Theory]
    [InlineData("run")]
    [InlineData("validate")]
    [InlineData("eval")]
    [InlineData("predict")]
    [InlineData("forward")]
    [InlineData("export")]
    [InlineData("import onnx")]
    [InlineData("profile")]
    [InlineData("cache build")]
    [InlineData("cache merge")]
    public void TheReadmeSynopsisOfACommandNamesEachOfItsOptions(string command)
    {
        var (exit, help, _) = CliRunner.Run([.. command.Split(' '), "--help"]);
        Assert.Equal(0, exit);
        string options = help[help.IndexOf("OPTIONS:", StringComparison.Ordinal)..];
        var listed = OptionLine().Matches(options).Select(m => m.Groups["option"].Value).Where(o => o != "--help").ToList();
        Assert.NotEmpty(listed);
        string readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        string synopsis = readme.Split('\n').First(l => l.StartsWith($"distill {command} ", StringComparison.Ordinal)); // the synopsis block comes first
        Assert.All(listed, o => Assert.True(synopsis.Contains(o, StringComparison.Ordinal), $"README's 'distill {command}' line lacks {o}: {synopsis}"));
    }
}
