using Distill.Models.Bert;

namespace Distill.Onnx;

/// <summary>An imported HF folder.</summary>
/// <param name="OutDir">The folder written (absolute).</param>
/// <param name="Config">Its config.json.</param>
/// <param name="HasPooler">Whether it has pooler weights.</param>
/// <param name="Provenance">Where each config value came from (graph evidence or HF default).</param>
/// <param name="Files">The files written, sorted.</param>
public sealed record OnnxImportResult(string OutDir, BertConfig Config, bool HasPooler, IReadOnlyList<string> Provenance, IReadOnlyList<string> Files);
