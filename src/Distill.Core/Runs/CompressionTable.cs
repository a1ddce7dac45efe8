using Distill.Stages.Results;

namespace Distill.Runs;

/// <summary>
/// The compression view of a run (issue-level contract: per stage parameters, non-zeros, bits per weight, bytes on
/// disk, the compression ratio against the fp32 student and the fp32 teacher, accuracy and measured CPU latency per
/// batch), read from the prune/quantize entries (<see cref="CompressionStageResult"/>) and the export entries. The
/// stage the compression starts from (the last stage before the first prune/quantize/export) is listed first as the
/// fp32 reference, and "vs fp32 student" is against that uncompressed student — so a structurally pruned (smaller)
/// model counts as compression too; without a reference stage it is the stage's own <c>fp32_bytes</c>, like the export
/// stage's <c>compression_ratio</c>. Empty when the run compresses nothing.
/// </summary>
public static class CompressionTable
{
    public static IReadOnlyList<CompressionTableRow> Rows(RunSummary summary)
    {
        var stages = summary.Stages;
        int first = stages.ToList().FindIndex(IsCompression);
        if (first < 0) return [];
        var rows = new List<CompressionTableRow>();
        double? teacherBytes = TeacherBytes(stages[first]);
        double? studentBytes = null;
        if (first > 0 && stages[first - 1] is not TrainTeacherResult)
        {
            var reference = stages[first - 1];
            studentBytes = reference.ModelBytes;
            rows.Add(new CompressionTableRow(reference.Name, reference.Params, null, 32, reference.ModelBytes, false, 1.0,
                teacherBytes / reference.ModelBytes, Metric(reference), (reference as CompressionStageResult)?.LatencyMsPerBatch));
        }
        foreach (var s in stages.Skip(first).Where(IsCompression))
        {
            var row = s switch
            {
                ExportResult e => new CompressionTableRow(e.Name, e.Params, e.NonzeroParams, e.BitsPerWeight, e.ArtifactBytes, true,
                    (studentBytes ?? e.Fp32Bytes) / e.ArtifactBytes, (e.TeacherFp32Bytes ?? teacherBytes) / e.ArtifactBytes, Metric(e), e.LatencyMsPerBatch),
                CompressionStageResult c => new CompressionTableRow(c.Name, c.Params, c.NonzeroParams, c.EstimatedBitsPerWeight, c.EstimatedArtifactBytes, false,
                    (studentBytes ?? c.Fp32Bytes) / (double)c.EstimatedArtifactBytes, (c.TeacherFp32Bytes ?? teacherBytes) / c.EstimatedArtifactBytes, Metric(c), c.LatencyMsPerBatch),
                _ => throw new InvalidOperationException("unreachable"),
            };
            rows.Add(row);
        }
        return rows;
    }

    private static bool IsCompression(StageResult s) => s is ExportResult or CompressionStageResult;

    private static double? TeacherBytes(StageResult s) => s switch
    {
        ExportResult e => e.TeacherFp32Bytes,
        CompressionStageResult c => c.TeacherFp32Bytes,
        _ => null,
    };

    /// <summary>The stage's primary metric: accuracy, or WER on transcript data (the table's column says which).</summary>
    private static double? Metric(StageResult s) => s.Metrics.TryGetValue("accuracy", out var a) && double.IsFinite(a) ? a
        : s.Metrics.TryGetValue("wer", out var w) && double.IsFinite(w) ? w : null;
}
