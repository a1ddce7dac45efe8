namespace Distill.Stages;

/// <summary>How <c>Runs.OnnxRunExport</c> writes and checks a stage's ONNX graph.</summary>
public sealed record OnnxRunExportOptions
{
    /// <summary>"auto" (int8 when the stage left a quantization record, else fp32), "fp32" or "int8".</summary>
    public string Precision { get; init; } = "auto";

    /// <summary>Write <c>&lt;out&gt;.report.json</c> (ORT parity, latency, accuracy).</summary>
    public bool Report { get; init; } = true;

    /// <summary>The recipe whose data the report evaluates and times on; null = the run's own (summary.json <c>recipe</c>).</summary>
    public string? RecipePath { get; init; }

    /// <summary>Deployment batch size of the latency rows.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Intra-op threads of ONNX Runtime and TorchSharp while timing.</summary>
    public int Threads { get; init; } = 1;

    public int TimedRuns { get; init; } = 30;

    public int WarmupRuns { get; init; } = 5;
}
