using Distill.Tests.Checkpoints;
using Distill.Tests.Runs;
using Xunit;

namespace Distill.Tests.Cli;

/// <summary>
/// Issue 18, rows 1 and 6: bad input files are found before the run folder exists — exit 2, a message naming the file
/// and the fix, nothing written — and the same command runs once the file is repaired.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class InputFaultTests : IDisposable
{
    private readonly FaultFixtures _fx = new();

    public void Dispose() => _fx.Dispose();

    [Theory]
    [InlineData("half", "truncated or damaged")]
    [InlineData("trailer", "truncated or damaged")] // GZipStream alone decompresses this one without complaint
    [InlineData("flip", "compressed data is damaged")]
    public void DamagedGzipIsInvalidInputNamingTheFileAndNothingIsWritten(string damage, string expected)
    {
        string recipe = _fx.Recipe();
        string images = Path.Combine(_fx.DataDir, "t10k-images-idx3-ubyte.gz");
        var original = File.ReadAllBytes(images);
        long length = original.Length;
        switch (damage)
        {
            case "half": FaultFixtures.Truncate(images, length / 2); break;
            case "trailer": FaultFixtures.Truncate(images, length - 5); break;
            default: FaultFixtures.FlipByte(images, length / 2); break;
        }
        string runDir = _fx.NewRunDir();

        var validate = CliRunner.Run("validate", recipe);
        Assert.Equal(2, validate.Exit);
        Assert.Contains(images, validate.Err);

        var (exit, output, err) = CliRunner.Run("run", recipe, "--out", runDir);
        Assert.True(exit == 2, err + output);
        Assert.Contains(images, err);
        Assert.Contains(expected, err);
        Assert.Contains("download", err); // the fix
        Assert.False(Directory.Exists(runDir), "nothing may be written for invalid input");

        File.WriteAllBytes(images, original);
        var again = CliRunner.Run("run", recipe, "--out", runDir);
        Assert.True(again.Exit == 0, again.Err + again.Out);
    }

    [Fact]
    public void IdxHeaderThatPromisesMoreThanTheFileHoldsIsInvalidInput()
    {
        // A consistent gzip of a cut IDX file: the trailer matches, the header's count does not.
        FaultFixtures.WriteMnist(_fx.DataDir, "t10k", 64, seed: 2);
        string labels = Path.Combine(_fx.DataDir, "t10k-labels-idx1-ubyte.gz");
        var raw = Distill.Data.GzipFile.ReadAll(labels);
        using (var fs = File.Create(labels))
        using (var gz = new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionLevel.Fastest))
            gz.Write(raw.AsSpan(0, raw.Length - 10));
        string runDir = _fx.NewRunDir();
        var (exit, _, err) = CliRunner.Run("run", _fx.Recipe(), "--out", runDir);
        Assert.Equal(2, exit);
        Assert.Contains(labels, err);
        Assert.Contains("header promises 64 bytes of data, file has 54", err);
        Assert.False(Directory.Exists(runDir));
    }

    /// <summary>A tiny HF ViT folder for MNIST-shaped input (1 channel, 28x28), weights written by <paramref name="weights"/>.</summary>
    private string VitFolder(Action<string> weights)
    {
        string folder = _fx.File("vit-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), """
            {"architectures": ["ViTForImageClassification"], "model_type": "vit", "hidden_size": 16, "num_hidden_layers": 1,
             "num_attention_heads": 2, "intermediate_size": 32, "image_size": 28, "patch_size": 7, "num_channels": 1,
             "hidden_act": "gelu", "layer_norm_eps": 1e-12, "qkv_bias": true,
             "id2label": {"0": "0", "1": "1", "2": "2", "3": "3", "4": "4", "5": "5", "6": "6", "7": "7", "8": "8", "9": "9"}}
            """);
        weights(folder);
        return folder;
    }

    private string PretrainedTeacherRecipe(string folder) => _fx.Recipe(
        teacher: $"pretrained: {folder}",
        distill: "distill:\n  terms:\n    - kind: soft_target",
        stages: "- kind: distill");

    [Fact]
    public void MaliciousPytorchBinOfAPretrainedTeacherIsInvalidInputAndNothingIsWritten()
    {
        // What Python's pickler writes for an object whose __reduce__ is (os.system, ('echo pwned',)).
        byte[] pickle = [0x80, 2, (byte)'c', .. "posix\nsystem\n"u8.ToArray(), (byte)'X', 10, 0, 0, 0, .. "echo pwned"u8.ToArray(),
                         0x85, (byte)'R', (byte)'.'];
        string folder = VitFolder(f => PickleBuilder.WriteTorchZip(Path.Combine(f, "pytorch_model.bin"), pickle));
        string runDir = _fx.NewRunDir();
        var (exit, output, err) = CliRunner.Run("run", PretrainedTeacherRecipe(folder), "--out", runDir);
        Assert.True(exit == 2, err + output);
        Assert.Contains("teacher.pretrained", err);
        Assert.Contains(Path.Combine(folder, "pytorch_model.bin"), err);
        Assert.Contains("posix.system", err);
        Assert.False(Directory.Exists(runDir));
    }

    [Fact]
    public void TruncatedSafetensorsOfAPretrainedTeacherIsInvalidInput()
    {
        string folder = VitFolder(f =>
        {
            string path = Path.Combine(f, "model.safetensors");
            Distill.Checkpoints.SafeTensors.Save(path, new Dictionary<string, TorchSharp.torch.Tensor>
            {
                ["vit.embeddings.cls_token"] = TorchSharp.torch.zeros(1, 1, 16),
                ["classifier.weight"] = TorchSharp.torch.zeros(10, 16),
            });
            FaultFixtures.Truncate(path, new FileInfo(path).Length - 100);
        });
        string runDir = _fx.NewRunDir();
        var (exit, _, err) = CliRunner.Run("run", PretrainedTeacherRecipe(folder), "--out", runDir);
        Assert.Equal(2, exit);
        Assert.Contains(Path.Combine(folder, "model.safetensors"), err);
        Assert.Contains("truncated", err);
        Assert.False(Directory.Exists(runDir));
        Assert.Equal(2, CliRunner.Run("validate", PretrainedTeacherRecipe(folder)).Exit);
    }
}
