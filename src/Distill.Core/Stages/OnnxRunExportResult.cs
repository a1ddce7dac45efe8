using Distill.Onnx.Export;
using Distill.Onnx.Runtime;

namespace Distill.Stages;

/// <summary>The graph <c>Runs.OnnxRunExport</c> wrote and, unless turned off, its proof report.</summary>
public sealed record OnnxRunExportResult(OnnxExportResult Export, string Precision, OnnxExportReport? Report, string? ReportPath);
