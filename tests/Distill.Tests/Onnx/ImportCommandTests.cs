using Distill.Cli;
using Distill.Tests.Checkpoints;
using Distill.Tests.Hf;
using Xunit;

namespace Distill.Tests.Onnx;

/// <summary><c>distill import onnx</c>: exit codes, messages, and nothing written on bad input.</summary>
[Collection(SerialCollection.Name)]
public sealed class ImportCommandTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void ImportsAGraphAndPrintsWhereEachConfigValueCameFrom()
    {
        string onnx = TinyBertOnnx.Write(new TinyBertOnnx().Build(), _tmp.File("tiny.onnx"));
        var (code, stdout, stderr) = CliCapture.Run("import", "onnx", onnx, "--out", _tmp.File("hf"));
        Assert.True(code == 0, stderr);
        Assert.Contains("as BertModel into", stdout);
        Assert.Contains("2 layers, hidden 8, 2 heads, FFN 16, vocab 24, with pooler", stdout);
        Assert.Contains("layer_norm_eps 1E-12: the float32 constant added under every LayerNorm's Sqrt (5 LayerNorms)", stdout);
        Assert.Contains("warning: no --vocab", stdout);
        Assert.True(File.Exists(Path.Combine(_tmp.File("hf"), "model.safetensors")));

        // Again into the same folder: refused unless --overwrite.
        var again = CliCapture.Run("import", "onnx", onnx, "--out", _tmp.File("hf"));
        Assert.Equal(ExitCodes.InvalidInput, again.Code);
        Assert.Contains("exists and is not empty; choose a new folder or pass --overwrite", again.Err);
        Assert.Equal(0, CliCapture.Run("import", "onnx", onnx, "--out", _tmp.File("hf"), "--overwrite").Code);
    }

    [Fact]
    public void ABadGraphIsExitTwoAndWritesNothing()
    {
        var model = new TinyBertOnnx().Build();
        var n = model.Graph.Node.First(x => x.OpType == "Softmax");
        n.OpType = "CumSum";
        string onnx = TinyBertOnnx.Write(model, _tmp.File("bad.onnx"));
        string outDir = Path.Combine(_tmp.Path, "out", "hf");
        var (code, _, stderr) = CliCapture.Run("import", "onnx", onnx, "--out", outDir);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains($"error: {onnx}: node '{n.Name}' (CumSum)", stderr);
        Assert.False(Directory.Exists(Path.Combine(_tmp.Path, "out")));

        File.WriteAllText(_tmp.File("not.onnx"), "this is not protobuf at all");
        var junk = CliCapture.Run("import", "onnx", _tmp.File("not.onnx"), "--out", outDir);
        Assert.Equal(ExitCodes.InvalidInput, junk.Code);
        Assert.Contains("not an ONNX model", junk.Err);

        var missing = CliCapture.Run("import", "onnx", _tmp.File("absent.onnx"), "--out", outDir);
        Assert.Equal(ExitCodes.InvalidInput, missing.Code);
        Assert.Contains("ONNX file not found", missing.Err);
        Assert.False(Directory.Exists(Path.Combine(_tmp.Path, "out")));
    }

    [Fact]
    public void UsageErrorsNameTheFix()
    {
        var (code, _, err) = CliCapture.Run("import", "tflite", "m.tflite", "--out", "x");
        Assert.Equal(2, code);
        Assert.Contains("reads the formats: onnx; not 'tflite'", err);
        (code, _, err) = CliCapture.Run("import", "onnx", "m.onnx");
        Assert.Equal(2, code);
        Assert.Contains("--out <hf-folder> is required", err);
        (code, _, err) = CliCapture.Run("import", "onnx");
        Assert.Equal(2, code);
        Assert.Contains("missing required argument 'model.onnx'", err);
    }
}
