using System.Collections.Concurrent;
using Distill.Onnx;

namespace Distill.Tests.Onnx;

/// <summary>
/// Each packaged model extracted once per test class (model.onnx, vocab.txt as shipped, CRLF) and imported into a HF
/// folder with <see cref="OnnxBertImporter"/>; deleted afterwards.
/// </summary>
public sealed class ImportedModels : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"distill-onnx-{Guid.NewGuid():N}");
    private readonly ConcurrentDictionary<string, Lazy<ImportedModel>> _models = new(StringComparer.Ordinal);

    /// <summary>The package's model, imported on first use.</summary>
    public ImportedModel Get(string package) => _models.GetOrAdd(package, p => new Lazy<ImportedModel>(() => Import(p))).Value;

    private ImportedModel Import(string package)
    {
        string dir = Path.Combine(_root, package);
        Directory.CreateDirectory(dir);
        byte[] onnx = PackagedModels.Resource(package, "model.onnx");
        string onnxPath = Path.Combine(dir, "model.onnx"), vocabPath = Path.Combine(dir, "vocab.txt");
        File.WriteAllBytes(onnxPath, onnx);
        File.WriteAllBytes(vocabPath, PackagedModels.Resource(package, "vocab.txt"));
        var result = OnnxBertImporter.Import(onnxPath, Path.Combine(dir, "hf"), vocabPath);
        return new ImportedModel(onnx, onnxPath, vocabPath, result);
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
