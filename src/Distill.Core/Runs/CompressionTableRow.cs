namespace Distill.Runs;

/// <summary>
/// One stage's line of the end-of-run compression table (the same numbers as its summary.json entry). Bytes are those
/// of the artifact file for an <c>export</c> stage (<see cref="OnDisk"/>) and the encoder's prediction for the model as
/// it stands after a prune or quantize stage. Null where the stage does not report the value.
/// </summary>
public sealed record CompressionTableRow(
    string Stage, long Params, long? NonZeros, double? BitsPerWeight, long Bytes, bool OnDisk,
    double? RatioVsStudent, double? RatioVsTeacher, double? Accuracy, double? LatencyMs);
