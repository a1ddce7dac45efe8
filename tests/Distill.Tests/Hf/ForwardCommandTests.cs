using Distill.Checkpoints;
using Distill.Tests.Checkpoints;
using Distill.Tests.Recipes;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Hf;

/// <summary><c>distill forward</c> on the reference folders in tests/fixtures/hf: the written outputs are HF's reference outputs.</summary>
[Collection(SerialCollection.Name)]
public sealed class ForwardCommandTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Theory]
    [InlineData(HfTestData.BertBase)]
    [InlineData(HfTestData.BertCls)]
    [InlineData(HfTestData.VitBase)]
    [InlineData(HfTestData.VitCls)]
    [InlineData(HfTestData.W2vGroupBase)]
    [InlineData(HfTestData.W2vGroupCtc)]
    [InlineData(HfTestData.W2vGroupCls)]
    [InlineData(HfTestData.W2vLayerBase)]
    [InlineData(HfTestData.W2vLayerCtc)]
    [InlineData(HfTestData.W2vLayerCls)]
    public void WritesHfReferenceOutputs(string folder)
    {
        using var scope = NewDisposeScope();
        var reference = HfTestData.Reference(folder);
        string inputs = _tmp.File("in.safetensors"), output = _tmp.File(Path.Combine("out", "out.safetensors"));
        SafeTensors.Save(inputs, HfTestData.Inputs(folder, reference));

        var (code, stdout, stderr) = CliCapture.Run("forward", "--model", HfTestData.Folder(folder), "--inputs", inputs, "--out", output);
        log.WriteLine(stdout + stderr);
        Assert.Equal(0, code);
        var written = SafeTensors.Load(output);
        HfTestData.AssertMatchesReference(log, folder, reference, written);
        // Attentions are written even where the reference file has none (the classifier references).
        Assert.Equal(new long[] { HfTestData.Inputs(folder, reference).Values.First().shape[0], 4 },
            written["attentions.0"].shape[..2]);
        Assert.DoesNotContain(written.Keys, k => k.StartsWith("pair.", StringComparison.Ordinal) || k.StartsWith("grad.", StringComparison.Ordinal));
        Assert.Equal(reference.ContainsKey("labels"), written.ContainsKey("loss"));
    }

    [Fact]
    public void BadFolderIsInvalidInput()
    {
        string inputs = _tmp.File("in.safetensors");
        SafeTensors.Save(inputs, new Dictionary<string, Tensor> { ["pixel_values"] = zeros(1, 3, 32, 32) });
        var (code, _, err) = CliCapture.Run("forward", "--model", _tmp.File("absent"), "--inputs", inputs, "--out", _tmp.File("o.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("HF model folder not found", err);

        string noWeights = _tmp.File("no-weights");
        Directory.CreateDirectory(noWeights);
        File.Copy(Path.Combine(HfTestData.Folder(HfTestData.VitCls), "config.json"), Path.Combine(noWeights, "config.json"));
        (code, _, err) = CliCapture.Run("forward", "--model", noWeights, "--inputs", inputs, "--out", _tmp.File("o.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("no model weights", err);
        Assert.False(File.Exists(_tmp.File("o.safetensors")));
    }

    [Fact]
    public void BadInputsAreInvalidInput()
    {
        string vit = HfTestData.Folder(HfTestData.VitCls), bert = HfTestData.Folder(HfTestData.BertBase);
        (int Code, string Err) Run(string folder, Dictionary<string, Tensor>? tensors)
        {
            string inputs = _tmp.File($"in-{Guid.NewGuid():N}.safetensors");
            if (tensors is not null) SafeTensors.Save(inputs, tensors);
            var (code, _, err) = CliCapture.Run("forward", "--model", folder, "--inputs", inputs, "--out", _tmp.File("o.safetensors"));
            return (code, err);
        }
        var r = Run(vit, null);
        Assert.Equal((2, true), (r.Code, r.Err.Contains("input file not found")));
        r = Run(vit, new() { ["pixels"] = zeros(1, 3, 32, 32) });
        Assert.Equal((2, true), (r.Code, r.Err.Contains("'pixels' is not a model input")));
        r = Run(vit, new() { ["input_ids"] = ones(1, 4, ScalarType.Int64) });
        Assert.Equal((2, true), (r.Code, r.Err.Contains("does not read input_ids")));
        r = Run(bert, new() { ["input_ids"] = ones(1, 4, ScalarType.Int64), ["labels"] = zeros(1, ScalarType.Int64) });
        Assert.Equal((2, true), (r.Code, r.Err.Contains("base model without a head")));
        r = Run(bert, new() { ["input_ids"] = full(1, 4, 40000L) });
        Assert.Equal((2, true), (r.Code, r.Err.Contains("vocab_size")));
        r = Run(vit, new() { ["pixel_values"] = zeros(1, 3, 16, 16) });
        Assert.Equal(2, r.Code);
        Assert.False(File.Exists(_tmp.File("o.safetensors")));
        log.WriteLine(r.Err);
    }

    [Fact]
    public void MissingOptionsAreUsageErrors()
    {
        var (code, _, err) = CliCapture.Run("forward", "--model", "x", "--inputs", "y");
        Assert.Equal(2, code);
        Assert.Contains("--out <out.safetensors> is required", err);
        (code, _, err) = CliCapture.Run("forward", "x");
        Assert.Equal(2, code);
        Assert.Contains("forward --help", err);
        var (helpCode, help, _) = CliCapture.Run("forward", "--help");
        Assert.Equal(0, helpCode);
        Assert.Contains("--inputs", help);
    }
}
