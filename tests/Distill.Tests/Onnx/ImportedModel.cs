using Distill.Onnx;

namespace Distill.Tests.Onnx;

/// <summary>A packaged model: the original graph (bytes and file), its shipped vocabulary and the imported folder.</summary>
public sealed record ImportedModel(byte[] Onnx, string OnnxPath, string VocabPath, OnnxImportResult Result)
{
    public string Folder => Result.OutDir;
}
