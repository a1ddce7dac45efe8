using System.Collections;
using Distill.Checkpoints;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Checkpoints;

/// <summary>
/// TorchSharp.PyBridge (an independent implementation of the torch.save and safetensors formats) as a second reader
/// and writer for ours: each side reads what the other writes, and both read the HF fixtures' files alike. The last
/// tests are the evidence for keeping our restricted unpickler for loading: PyBridge executes nothing either, but it
/// does not refuse a pickle that names arbitrary globals.
/// </summary>
public sealed class PyBridgeInteropTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static string BertDir => TestPaths.Hf("bert-tiny-random-BertForSequenceClassification");

    private static Dictionary<string, Tensor> Sample()
    {
        var g = new Generator(7);
        return new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["encoder.weight"] = torch.randn([5, 3], generator: g),
            ["encoder.bias"] = torch.randn([5], generator: g),
            ["half"] = torch.randn([4], generator: g).to(ScalarType.Float16),
            ["bf16"] = torch.randn([2, 2], generator: g).to(ScalarType.BFloat16),
            ["ids"] = torch.tensor(new long[] { -5, 1L << 40, 3 }),
            ["scalar"] = torch.tensor(7.25f),
        };
    }

    private static void AssertSame(IReadOnlyDictionary<string, Tensor> expected, IDictionary actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Cast<string>().Order(StringComparer.Ordinal));
        foreach (var (k, v) in expected)
        {
            var other = Assert.IsType<Tensor>(actual[k], exactMatch: false);
            Assert.True(SafeTensorsTests.BitEqual(v, other), $"{k}: {v.dtype}{string.Join(',', v.shape)} vs {other.dtype}{string.Join(',', other.shape)}");
        }
    }

    [Fact]
    public void BothReadersAgreeOnTheFixturesTorchSaveFile()
    {
        // pytorch_model.bin was written by PyTorch's torch.save; two independent unpicklers must see the same tensors.
        string path = Path.Combine(BertDir, "pytorch_model.bin");
        var ours = PyTorchPickle.Load(path);
        var theirs = PyTorchUnpickler.UnpickleStateDict(path);
        Assert.Equal(41, ours.Count);
        AssertSame(ours, theirs);
    }

    [Fact]
    public void BothReadersAgreeOnTheFixturesSafetensorsFile()
    {
        string path = Path.Combine(BertDir, "model.safetensors");
        AssertSame(SafeTensors.Load(path), Safetensors.LoadStateDict(path));
    }

    [Fact]
    public void PyBridgeReadsTheSafetensorsWeWrite()
    {
        var sample = Sample();
        string path = _tmp.File("ours.safetensors");
        SafeTensors.Save(path, sample);
        AssertSame(sample, Safetensors.LoadStateDict(path));
    }

    [Fact]
    public void WeReadTheSafetensorsPyBridgeWrites()
    {
        var sample = Sample();
        string path = _tmp.File("theirs.safetensors");
        Safetensors.SaveStateDict(path, sample);
        AssertSame(sample, SafeTensors.Load(path));
    }

    [Fact]
    public void WeReadTheTorchSaveFilesPyBridgeWrites()
    {
        var sample = Sample();
        string path = _tmp.File("theirs.bin");
        PyTorchPickler.PickleStateDict(path, new Hashtable(sample.ToDictionary(kv => (object)kv.Key, kv => (object?)kv.Value)));
        AssertSame(sample, PyTorchPickle.Load(path));
    }

    [Fact]
    public void PyBridgeLoadsAnHfFolderWeExportIntoTheSameModule()
    {
        // A model's state dict written by our safetensors writer loads strictly into a fresh module through PyBridge.
        var model = nn.Sequential(("0", nn.Linear(3, 4)), ("1", nn.LayerNorm(4)));
        string path = _tmp.File("model.safetensors");
        SafeTensors.Save(path, model.state_dict());
        var fresh = nn.Sequential(("0", nn.Linear(3, 4)), ("1", nn.LayerNorm(4)));
        using (torch.no_grad()) foreach (var p in fresh.parameters()) p.zero_();
        fresh.load_safetensors(path, strict: true);
        AssertSame(model.state_dict(), fresh.state_dict());
    }

    /// <summary>A torch.save-like state dict holding a real tensor <c>w</c> and, under <c>evil</c>, a call of <paramref name="global"/>.</summary>
    private string PickleCalling(string name, string module, string global, string? argument)
    {
        var p = new PickleBuilder().Proto(2);
        p.Global("collections", "OrderedDict").EmptyTuple().Reduce();
        p.Mark().Str("w").Tensor("FloatStorage", "0", 2, 0, [2], [1]);
        p.Str("evil").Global(module, global);
        if (argument is null) p.EmptyTuple(); else p.Str(argument).Op(0x85);
        p.Reduce().SetItems();
        string path = _tmp.File(name);
        PickleBuilder.WriteTorchZip(path, p.Stop().ToArray(), new Dictionary<string, byte[]> { ["0"] = new byte[8] });
        return path;
    }

    [Fact]
    public void AMaliciousPickleRunsNothingInEitherReaderButOnlyOursRefusesItByName()
    {
        // posix.system('touch <marker>'): torch.load would run the command.
        string marker = _tmp.File("marker-" + Guid.NewGuid().ToString("N"));
        string withArgs = PickleCalling("evil.bin", "posix", "system", $"touch {marker}");
        Assert.Contains("global 'posix.system' is not allowed", Assert.Throws<PickleSecurityException>(() => PyTorchPickle.Load(withArgs)).Message);
        // PyBridge (Razorvine.Pickle) has no interpreter; it refuses this one only because its placeholder object
        // takes no constructor arguments.
        var e = Assert.ThrowsAny<Exception>(() => PyTorchUnpickler.UnpickleStateDict(withArgs));
        log.WriteLine($"PyBridge, posix.system(cmd): {e.GetType().FullName}: {e.Message}");
        Thread.Sleep(200); // a spawned process would have had time to create the marker
        Assert.False(File.Exists(marker));

        // Called without arguments, an arbitrary global passes PyBridge as a placeholder beside the real tensor, while
        // ours names it. So loading keeps our allow-list unpickler; PyBridge is the independent cross-check in tests.
        string noArgs = PickleCalling("evil0.bin", "os", "getcwd", null);
        Assert.Contains("global 'os.getcwd' is not allowed", Assert.Throws<PickleSecurityException>(() => PyTorchPickle.Load(noArgs)).Message);
        var theirs = PyTorchUnpickler.UnpickleStateDict(noArgs);
        log.WriteLine($"PyBridge, os.getcwd(): loaded, 'evil' = {theirs["evil"]?.GetType().FullName}");
        Assert.IsType<Tensor>(theirs["w"], exactMatch: false);
        Assert.IsNotType<Tensor>(theirs["evil"]);
    }
}
