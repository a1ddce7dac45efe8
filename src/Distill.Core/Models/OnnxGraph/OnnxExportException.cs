namespace Distill.Models.OnnxGraph;

/// <summary>A model (or a part of it) the ONNX export cannot write; the message names the module and the fix.</summary>
public sealed class OnnxExportException(string message) : Exception(message);
