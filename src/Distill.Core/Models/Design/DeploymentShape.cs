namespace Distill.Models.Design;

/// <summary>The resolved deployment shape latency is measured at (see <see cref="DeploymentSpec"/>).</summary>
public sealed record DeploymentShape(int BatchSize, int Threads, string Device)
{
    /// <summary>Text: tokens per example.</summary>
    public int? SequenceLength { get; init; }

    /// <summary>Images: square side in pixels.</summary>
    public int? ImageSize { get; init; }

    /// <summary>Audio: samples per clip.</summary>
    public int? AudioLength { get; init; }

    public override string ToString()
    {
        string length = SequenceLength is { } t ? $", {t} tokens" : ImageSize is { } s ? $", {s}x{s} px" : AudioLength is { } a ? $", {a} samples" : "";
        return $"batch {BatchSize}{length}, {Device}, {Threads} thread{(Threads == 1 ? "" : "s")}";
    }
}
