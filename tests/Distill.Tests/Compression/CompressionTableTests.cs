using Distill.Compression;
using Distill.Runs;
using Distill.Stages;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary>The end-of-run compression table is read from the stage entries, live or read back from summary.json.</summary>
public class CompressionTableTests
{
    private static StageResult Stage(string name, string kind, double accuracy, long parameters, long bytes, Dictionary<string, object>? extra = null) => new()
    {
        Name = name, Kind = kind, Metrics = new Dictionary<string, double> { ["accuracy"] = accuracy }, Params = parameters,
        ModelBytes = bytes, WallSeconds = 1, Extra = extra ?? [],
    };

    private static RunSummary Summary()
    {
        var s = new RunSummary("r.yaml", "x");
        s.Add(Stage("teacher", "train_teacher", 0.9, 1000, 4000));
        s.Add(Stage("distill", "distill", 0.8, 400, 1600));
        s.Add(Stage("prune", "prune", 0.79, 300, 1200, new()
        {
            ["nonzero_params"] = 150L, ["fp32_bytes"] = 1200L, ["estimated_artifact_bytes"] = 800L, ["estimated_bits_per_weight"] = 21.33,
            ["teacher_fp32_bytes"] = 4000L, ["latency_ms_per_batch"] = 2.5,
        }));
        s.Add(Stage("export", "export", 0.78, 300, 1200, new()
        {
            ["nonzero_params"] = 150L, ["fp32_bytes"] = 1200L, ["artifact_bytes"] = 200L, ["bits_per_weight"] = 5.33,
            ["teacher_fp32_bytes"] = 4000L, ["latency_ms_per_batch"] = 2.0, ["compression_ratio"] = 6.0,
        }));
        return s;
    }

    [Fact]
    public void Rows_HaveTheReferenceStudentAndEachCompressionStage_LiveAndFromSummaryJson()
    {
        string dir = CompressionTestRecipes.TempDir();
        Directory.CreateDirectory(dir);
        try
        {
            var live = Summary();
            live.Write(dir);
            foreach (var summary in new[] { live, RunSummary.Read(dir) })
            {
                var rows = CompressionTable.Rows(summary);
                Assert.Equal(["distill", "prune", "export"], rows.Select(r => r.Stage));
                var (reference, prune, export) = (rows[0], rows[1], rows[2]);
                Assert.Equal(1600, reference.Bytes);
                Assert.Equal(1.0, reference.RatioVsStudent);
                Assert.Equal(2.5, reference.RatioVsTeacher!.Value, 9);
                Assert.False(prune.OnDisk);
                Assert.Equal(800, prune.Bytes);
                Assert.Equal(2.0, prune.RatioVsStudent!.Value, 9);   // 1,600 B of the uncompressed student / 800 B
                Assert.Equal(5.0, prune.RatioVsTeacher!.Value, 9);
                Assert.True(export.OnDisk);
                Assert.Equal(200, export.Bytes);
                Assert.Equal(150, export.NonZeros);
                Assert.Equal(8.0, export.RatioVsStudent!.Value, 9);  // the structurally smaller model counts: 1,600 / 200
                Assert.Equal(20.0, export.RatioVsTeacher!.Value, 9);
                Assert.Equal(5.33, export.BitsPerWeight!.Value, 9);
                Assert.Equal(0.78, export.Accuracy!.Value, 9);
                Assert.Equal(2.0, export.LatencyMs!.Value, 9);
            }
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }

    [Fact]
    public void ARunWithoutCompression_HasNoRows()
    {
        var s = new RunSummary("r.yaml", "x");
        s.Add(Stage("teacher", "train_teacher", 0.9, 1000, 4000));
        s.Add(Stage("distill", "distill", 0.8, 400, 1600));
        Assert.Empty(CompressionTable.Rows(s));
    }
}
