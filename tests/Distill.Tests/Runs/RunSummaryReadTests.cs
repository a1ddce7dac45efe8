using Distill.Runs;
using Distill.Stages.Results;
using Distill.Tests.Training;
using Xunit;

namespace Distill.Tests.Runs;

/// <summary>summary.json entries are read back as the typed record of their kind, whatever the key order.</summary>
public class RunSummaryReadTests
{
    [Fact]
    public void EntriesAreReadAsTheirKindsRecords_NameBeforeKind_NullMetricsAsNaN()
    {
        string dir = TestRecipes.TempDir();
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, RunSummary.FileName), """
                {"recipe": "r.yaml", "recipe_sha256": "abc", "stages": [
                  {"name": "teacher", "kind": "teacher_checkpoint", "metrics": {"accuracy": 0.5, "loss": null}, "params": 10,
                   "model_bytes": 40, "wall_seconds": 1.5, "steps": 0, "checkpoint": "ckpt"},
                  {"name": "q", "kind": "quantize", "metrics": {"accuracy": 0.25}, "metrics_by_split": {"test": {"accuracy": 0.25}, "dev": {"accuracy": 0.3}},
                   "params": 10, "model_bytes": 40, "wall_seconds": 2, "steps": 3, "model_dir": "models/q", "best_accuracy": null,
                   "method": "ptq", "layer_bits": {"fc.weight": 4}, "sparsity": 0, "nonzero_params": 9, "fp32_bytes": 40,
                   "estimated_artifact_bytes": 12, "estimated_compression_ratio": 3.3, "estimated_bits_per_weight": 9.6,
                   "latency_ms_per_batch": 0.1, "latency_batch_size": 4, "warning": "over"}
                ]}
                """);
            var summary = RunSummary.Read(dir);
            var teacher = Assert.IsType<TeacherCheckpointResult>(summary.Stages[0]);
            Assert.Equal("teacher_checkpoint", teacher.Kind);
            Assert.Equal("ckpt", teacher.Checkpoint);
            Assert.True(double.IsNaN(teacher.Metrics["loss"]));
            Assert.Null(teacher.MetricsBySplit);
            var q = Assert.IsType<QuantizeResult>(summary.Stages[1]);
            Assert.Equal(["test", "dev"], q.MetricsBySplit!.Select(s => s.Split));
            Assert.Equal(4, q.LayerBits["fc.weight"]);
            Assert.True(double.IsNaN(q.BestAccuracy!.Value));
            Assert.Equal(12, q.EstimatedArtifactBytes);
            Assert.Null(q.TeacherFp32Bytes);
            Assert.Equal("over", q.Warning);
            // Written back: the kind leads, NaN is null again, absent optional keys stay absent.
            var stage = summary.ToJson()["stages"]![1]!.AsObject();
            Assert.Equal("quantize", (string)stage["kind"]!);
            Assert.Null(stage["best_accuracy"]);
            Assert.True(stage.ContainsKey("best_accuracy"));
            Assert.False(stage.ContainsKey("teacher_fp32_bytes"));
        }
        finally { TestRecipes.DeleteDir(dir); }
    }

    [Fact]
    public void EveryStageKindHasARunnerAndAResultRecord()
    {
        Assert.Equal(Distill.Recipes.StageSpecRegistry.Default.Keys.Order(), Distill.Stages.StageRegistry.Default.Keys.Order());
        var resultKinds = StageResult.Types.Keys.ToHashSet();
        Assert.Superset(Distill.Stages.StageRegistry.Default.Keys.ToHashSet(), resultKinds);
        Assert.Equal(["teacher_checkpoint", "teacher_pretrained"], resultKinds.Except(Distill.Stages.StageRegistry.Default.Keys).Order());
    }

    [Fact]
    public void AnUnknownKindIsAnUnreadableSummary()
    {
        string dir = TestRecipes.TempDir();
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, RunSummary.FileName), """
                {"recipe": "r.yaml", "recipe_sha256": "abc", "stages": [{"name": "x", "kind": "nonsense", "metrics": {}, "params": 1, "model_bytes": 4, "wall_seconds": 0}]}
                """);
            var e = Assert.Throws<InvalidInputException>(() => RunSummary.Read(dir));
            Assert.Contains("not a readable run summary", e.Message);
        }
        finally { TestRecipes.DeleteDir(dir); }
    }
}
