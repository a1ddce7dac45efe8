namespace Distill.Onnx;

/// <summary>
/// An ONNX graph cannot be imported: the message names the file, the node or initializer concerned, what was expected
/// there, and the fix. Nothing was written.
/// </summary>
public sealed class OnnxImportException(string message) : Exception(message);
