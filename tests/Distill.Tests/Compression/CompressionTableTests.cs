using Distill.Runs;
using Distill.Stages.Results;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary>The end-of-run compression table is read from the stage entries, live or read back from summary.json.</summary>
public class CompressionTableTests
{
    private static T Stage<T>(string name, double accuracy, long parameters, long bytes) where T : StageResult, new() => new()
    {
        Name = name, Metrics = new Dictionary<string, double> { ["accuracy"] = accuracy }, Params = parameters, ModelBytes = bytes, WallSeconds = 1,
    };

    private static RunSummary Summary()
    {
        var s = new RunSummary("r.yaml", "x");
        s.Add(Stage<TrainTeacherResult>("teacher", 0.9, 1000, 4000));
        s.Add(Stage<DistillResult>("distill", 0.8, 400, 1600));
        s.Add(Stage<PruneResult>("prune", 0.79, 300, 1200) with
        {
            NonzeroParams = 150, Fp32Bytes = 1200, EstimatedArtifactBytes = 800, EstimatedBitsPerWeight = 21.33, TeacherFp32Bytes = 4000, LatencyMsPerBatch = 2.5,
        });
        s.Add(Stage<ExportResult>("export", 0.78, 300, 1200) with
        {
            NonzeroParams = 150, Fp32Bytes = 1200, ArtifactBytes = 200, BitsPerWeight = 5.33, TeacherFp32Bytes = 4000, LatencyMsPerBatch = 2.0, CompressionRatio = 6.0,
        });
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
        s.Add(Stage<TrainTeacherResult>("teacher", 0.9, 1000, 4000));
        s.Add(Stage<DistillResult>("distill", 0.8, 400, 1600));
        Assert.Empty(CompressionTable.Rows(s));
    }
}
