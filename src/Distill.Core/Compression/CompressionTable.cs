using System.Text.Json.Nodes;
using Distill.Runs;
using Distill.Stages;

namespace Distill.Compression;

/// <summary>
/// The compression view of a run (issue-level contract: per stage parameters, non-zeros, bits per weight, bytes on
/// disk, the compression ratio against the fp32 student and the fp32 teacher, accuracy and measured CPU latency per
/// batch), read from the stage entries that <see cref="CompressionReport"/> and the export stage fill. The stage the
/// compression starts from (the last stage before the first prune/quantize/export) is listed first as the fp32
/// reference, and "vs fp32 student" is against that uncompressed student — so a structurally pruned (smaller) model
/// counts as compression too; without a reference stage it is the stage's own <c>fp32_bytes</c>, like the export
/// stage's <c>compression_ratio</c>. Empty when the run compresses nothing.
/// </summary>
public static class CompressionTable
{
    public static IReadOnlyList<CompressionTableRow> Rows(RunSummary summary)
    {
        var stages = summary.Stages;
        int first = stages.ToList().FindIndex(s => s.Extra.ContainsKey("nonzero_params"));
        if (first < 0) return [];
        var rows = new List<CompressionTableRow>();
        double? teacherBytes = Number(stages[first], "teacher_fp32_bytes");
        double? studentBytes = null;
        if (first > 0 && stages[first - 1].Kind != "train_teacher")
        {
            var reference = stages[first - 1];
            studentBytes = reference.ModelBytes;
            rows.Add(new CompressionTableRow(reference.Name, reference.Params, null, 32, reference.ModelBytes, false, 1.0,
                teacherBytes / reference.ModelBytes, Metric(reference), Number(reference, "latency_ms_per_batch")));
        }
        foreach (var s in stages.Skip(first).Where(s => s.Extra.ContainsKey("nonzero_params")))
        {
            bool onDisk = s.Extra.ContainsKey("artifact_bytes");
            long bytes = (long)(Number(s, onDisk ? "artifact_bytes" : "estimated_artifact_bytes") ?? s.ModelBytes);
            rows.Add(new CompressionTableRow(
                s.Name, s.Params, (long?)Number(s, "nonzero_params"),
                Number(s, onDisk ? "bits_per_weight" : "estimated_bits_per_weight"), bytes, onDisk,
                (studentBytes ?? Number(s, "fp32_bytes")) / bytes, (Number(s, "teacher_fp32_bytes") ?? teacherBytes) / bytes,
                Metric(s), Number(s, "latency_ms_per_batch")));
        }
        return rows;
    }

    private static double? Metric(StageResult s) => s.Metrics.TryGetValue("accuracy", out var a) && double.IsFinite(a) ? a : null;

    /// <summary>A numeric extra as written by a stage (long/int/double) or read back from summary.json (a JSON number).</summary>
    private static double? Number(StageResult s, string key) => s.Extra.TryGetValue(key, out var v) ? v switch
    {
        double d => d,
        long l => l,
        int i => i,
        JsonValue j when j.TryGetValue(out double jd) => jd,
        _ => null,
    } : null;
}
