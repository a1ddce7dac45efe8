using Distill.Cli;
using Distill.Runs;
using Distill.Stages.Results;
using Spectre.Console;
using Xunit;

namespace Distill.Tests.Cli;

/// <summary>The end-of-run table's weightless rows: one per encoded weight, from the typed entry.</summary>
[Collection(SerialCollection.Name)]
public class WeightlessTableTests
{
    [Fact]
    public void EncodedWeights_GetARowEach()
    {
        var summary = new RunSummary("r.yaml", "x");
        summary.Add(new DistillResult { Name = "distill", Params = 100, ModelBytes = 400 });
        summary.Add(new WeightlessResult
        {
            Name = "wl", Params = 100, ModelBytes = 400, EstimatedArtifactBytes = 40, Fp32Bytes = 400,
            Layers = new()
            {
                ["layers.0.weight"] = new WeightlessLayerResult
                {
                    Shape = [300, 784], Nonzeros = 3998, Bits = 5, Codes = 2, Cells = 4920, FalsePositives = 14498,
                    FalsePositiveRate = 0.0627, ExpectedFalsePositiveRate = 0.0625, Bytes = 3089, CompressionRatio = 304.6, DecodeMs = 48.2,
                },
            },
        });
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 250;
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = console;
        try { SummaryTable.Print(summary, "run"); }
        finally { AnsiConsole.Console = previous; }
        string output = writer.ToString();
        Assert.Contains("Bloomier tables", output);
        Assert.Contains("layers.0.weight", output);
        Assert.Contains("300x784", output);
        Assert.Contains("14,498", output);
        Assert.Contains("6.27 % (6.25 %)", output);
        Assert.Contains("304.6x", output);
    }
}
