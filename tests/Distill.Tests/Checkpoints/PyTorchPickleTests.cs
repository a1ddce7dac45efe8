using System.Text;
using Distill.Checkpoints;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Checkpoints;

/// <summary>
/// pytorch_model.bin reading: the HF reference file must equal its model.safetensors tensor for tensor; hand-written
/// pickles cover every accepted construct; malicious pickles (one that would run a shell command in Python) and
/// malformed archives are refused by name; a fuzz loop proves nothing but the checkpoint exceptions comes out.
/// </summary>
public sealed class PyTorchPickleTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static string BertDir => Path.Combine(TestPaths.Hf("bert-tiny-random-BertForSequenceClassification"));

    [Fact]
    public void HfPytorchModelBinEqualsItsSafetensorsTensorForTensor()
    {
        var bin = PyTorchPickle.Load(Path.Combine(BertDir, "pytorch_model.bin"));
        var st = SafeTensors.Load(Path.Combine(BertDir, "model.safetensors"));
        Assert.Equal(41, bin.Count);
        Assert.Equal(st.Keys.Order(), bin.Keys.Order());
        foreach (var (k, v) in st) Assert.True(SafeTensorsTests.BitEqual(v, bin[k]), k);
    }

    private static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>Storages of <see cref="ValidPickle"/>.</summary>
    internal static Dictionary<string, byte[]> ValidStorages() => new()
    {
        ["0"] = Floats(0, 1, 2, 3, 4, 5),
        ["1"] = [0x00, 0x3C, 0x00, 0xC0],                                  // half 1.0, -2.0
        ["2"] = [.. BitConverter.GetBytes(-5L), .. BitConverter.GetBytes(1L << 40)],
        ["3"] = [1, 0, 1],
        ["4"] = Floats(7.25f),
        ["5"] = [],
        ["6"] = [0x80, 0x3F, 0x00, 0xC0],                                  // bf16 1.0, -2.0
    };

    /// <summary>
    /// An OrderedDict state dict as torch.save(module.state_dict()) writes it, including the <c>_metadata</c> attribute
    /// set with BUILD, a storage shared by three views (offset, transpose), every storage dtype, a scalar, an empty
    /// tensor and an nn.Parameter (<c>_rebuild_parameter</c>).
    /// </summary>
    internal static byte[] ValidPickle()
    {
        var p = new PickleBuilder().Proto(2);
        p.Global("collections", "OrderedDict").Put(0).EmptyTuple().Reduce().Put(1);
        p.Mark();
        p.Str("w").Tensor("FloatStorage", "0", 6, 0, [2, 3], [3, 1]);
        p.Str("wt").Tensor("FloatStorage", "0", 6, 0, [3, 2], [1, 3]);
        p.Str("tail").Tensor("FloatStorage", "0", 6, 4, [2], [1]);
        p.Str("half").Tensor("HalfStorage", "1", 2, 0, [2], [1]);
        p.Str("ids").Tensor("LongStorage", "2", 2, 0, [2], [1]);
        p.Str("mask").Tensor("BoolStorage", "3", 3, 0, [3], [1]);
        p.Str("s").Tensor("FloatStorage", "4", 1, 0, [], []);
        p.Str("e").Tensor("FloatStorage", "5", 0, 0, [0], [1]);
        p.Str("p").Global("torch._utils", "_rebuild_parameter").Mark()
            .Tensor("BFloat16Storage", "6", 2, 0, [2], [1]).False().Global("collections", "OrderedDict").EmptyTuple().Reduce()
            .Tuple().Reduce();
        p.SetItems();
        // state = {'_metadata': OrderedDict({'': {'version': 1}})}, applied with BUILD
        p.EmptyDict().Str("_metadata").Get(0).EmptyTuple().Reduce().Str("").EmptyDict().Str("version").Int(1)
            .SetItem().SetItem().SetItem().Build();
        return p.Stop().ToArray();
    }

    [Fact]
    public void HandWrittenStateDictWithSharedStridedAndTypedStoragesLoads()
    {
        string path = _tmp.File("crafted.bin");
        PickleBuilder.WriteTorchZip(path, ValidPickle(), ValidStorages(), top: "some_other_name");
        var t = PyTorchPickle.Load(path);
        Assert.Equal(["e", "half", "ids", "mask", "p", "s", "tail", "w", "wt"], t.Keys.Order(StringComparer.Ordinal));
        Assert.True(t["w"].equal(torch.tensor(new float[] { 0, 1, 2, 3, 4, 5 }).reshape(2, 3)).all().item<bool>());
        Assert.True(t["wt"].equal(torch.tensor(new float[] { 0, 3, 1, 4, 2, 5 }).reshape(3, 2)).all().item<bool>());
        Assert.True(t["tail"].equal(torch.tensor(new float[] { 4, 5 })).all().item<bool>());
        Assert.Equal(ScalarType.Float16, t["half"].dtype);
        Assert.Equal(new float[] { 1, -2 }, t["half"].to(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(new long[] { -5, 1L << 40 }, t["ids"].data<long>().ToArray());
        Assert.Equal(new[] { true, false, true }, t["mask"].data<bool>().ToArray());
        Assert.Empty(t["s"].shape);
        Assert.Equal(7.25f, t["s"].item<float>());
        Assert.Equal(new long[] { 0 }, t["e"].shape);
        Assert.Equal(ScalarType.BFloat16, t["p"].dtype);
        Assert.Equal(new float[] { 1, -2 }, t["p"].to(ScalarType.Float32).data<float>().ToArray());
        // Views of a shared storage are independent tensors: writing one does not change another.
        t["w"].zero_();
        Assert.Equal(4f, t["tail"][0].item<float>());
    }

    [Fact]
    public void Protocol4FramingMemoizeAndStackGlobalAreAccepted()
    {
        var body = new PickleBuilder()
            .StackGlobal("collections", "OrderedDict").Op(0x94).EmptyTuple().Reduce().Op(0x94)
            .ShortStr("x").Tensor("FloatStorage", "0", 6, 0, [6], [1]).SetItem().Stop().ToArray();
        var pkl = new PickleBuilder().Proto(4).Op(0x95).Op(BitConverter.GetBytes((ulong)body.Length)).Op(body).ToArray();
        string path = _tmp.File("p4.bin");
        PickleBuilder.WriteTorchZip(path, pkl, new Dictionary<string, byte[]> { ["0"] = Floats(1, 2, 3, 4, 5, 6) });
        Assert.Equal(21f, PyTorchPickle.Load(path)["x"].sum().item<float>());
    }

    [Fact]
    public void OrderedDictGivenItsItemsAsAnArgumentLoads()
    {
        // OrderedDict([('a', t), ('b', t2)]) is a valid state-dict pickle from other writers than torch.save.
        var p = new PickleBuilder().Proto(2);
        p.Global("collections", "OrderedDict").Mark()
            .EmptyList().Mark()
            .Mark().Str("a").Tensor("FloatStorage", "0", 6, 0, [2, 3], [3, 1]).Tuple()
            .Mark().Str("b").Tensor("FloatStorage", "0", 6, 4, [2], [1]).Tuple()
            .Op('e') // APPENDS
            .Tuple().Reduce();
        string path = _tmp.File("items.bin");
        PickleBuilder.WriteTorchZip(path, p.Stop().ToArray(), new Dictionary<string, byte[]> { ["0"] = Floats(0, 1, 2, 3, 4, 5) });
        var loaded = PyTorchPickle.Load(path);
        Assert.Equal(["a", "b"], loaded.Keys.Order());
        Assert.Equal(15f, loaded["a"].sum().item<float>());
        Assert.Equal(new[] { 4f, 5f }, loaded["b"].data<float>().ToArray());
    }

    [Fact]
    public void OrderedDictWithItemsThatAreNotPairsIsRefused()
    {
        var p = new PickleBuilder().Proto(2).Global("collections", "OrderedDict").Mark().Str("x").Op(0x85).Tuple().Reduce();
        string path = _tmp.File("badpairs.bin");
        PickleBuilder.WriteTorchZip(path, p.Stop().ToArray());
        Assert.Contains("not a (key, value) pair", Assert.Throws<PyTorchCheckpointException>(() => PyTorchPickle.Load(path)).Message);
    }

    /// <summary>
    /// What Python's pickler writes for an object whose <c>__reduce__</c> returns <c>(os.system, ('echo pwned',))</c> on
    /// Linux: GLOBAL 'posix system', the argument tuple, REDUCE. Written byte by byte.
    /// </summary>
    private static byte[] MaliciousPickle(string command)
    {
        var cmd = Encoding.ASCII.GetBytes(command);
        return
        [
            0x80, 0x02,                                          // PROTO 2
            (byte)'c', .. "posix\nsystem\n"u8.ToArray(),         // GLOBAL posix.system
            (byte)'q', 0x00,                                     // BINPUT 0
            (byte)'X', .. BitConverter.GetBytes(cmd.Length), .. cmd, // BINUNICODE command
            (byte)'q', 0x01,                                     // BINPUT 1
            0x85,                                                // TUPLE1
            (byte)'q', 0x02,                                     // BINPUT 2
            (byte)'R',                                           // REDUCE: posix.system(command)
            (byte)'q', 0x03,                                     // BINPUT 3
            (byte)'.',                                           // STOP
        ];
    }

    [Fact]
    public void MaliciousPickleRunningAShellCommandIsRefusedByName()
    {
        string path = _tmp.File("pwned.bin");
        PickleBuilder.WriteTorchZip(path, MaliciousPickle("echo pwned"));
        var e = Assert.Throws<PickleSecurityException>(() => PyTorchPickle.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("archive/data.pkl", e.Message);
        Assert.Contains("global 'posix.system' is not allowed", e.Message);
        Assert.Contains("byte 2", e.Message); // the GLOBAL opcode's offset
    }

    [Fact]
    public void MaliciousPickleHasNoSideEffect()
    {
        // If anything executed the pickle, this command would create the marker file.
        string marker = _tmp.File("marker-" + Guid.NewGuid().ToString("N"));
        string path = _tmp.File("touch.bin");
        PickleBuilder.WriteTorchZip(path, MaliciousPickle($"touch {marker}"));
        Assert.Throws<PickleSecurityException>(() => PyTorchPickle.Load(path));
        Thread.Sleep(200); // a spawned process would have had time to run
        Assert.False(File.Exists(marker));
    }

    public static TheoryData<string, string> SecurityCases => new()
    {
        { "os.system", "global 'os.system' is not allowed" },
        { "nt.system", "global 'nt.system' is not allowed" },
        { "builtins.eval", "global 'builtins.eval' is not allowed" },
        { "builtins.exec-via-stack-global", "global 'builtins.exec' is not allowed" },
        { "subprocess.Popen-via-stack-global", "global 'subprocess.Popen' is not allowed" },
        { "torch.load", "global 'torch.load' is not allowed" },
        { "INST", "opcode INST (0x69 'i') is not allowed" },
        { "OBJ", "opcode OBJ (0x6F 'o') is not allowed" },
        { "NEWOBJ", "opcode NEWOBJ (0x81) is not allowed" },
        { "EXT1", "opcode EXT1 (0x82) is not allowed" },
        { "PERSID", "opcode PERSID (0x50 'P') is not allowed" },
        { "BINBYTES", "opcode BINBYTES (0x42 'B') is not allowed" },
        { "unknown-opcode", "0xFF (not a pickle opcode)" },
        { "BUILD-on-tensor", "opcode BUILD on a tensor is not allowed" },
        { "BUILD-on-plain-dict", "opcode BUILD on a dict is not allowed" },
        { "call-storage-class", "torch.FloatStorage is a storage class; calling it is not allowed" },
        { "backward-hooks", "carries backward hooks" },
        { "reduce-non-global", "REDUCE calls a dict" },
    };

    private static byte[] SecurityPickle(string name)
    {
        var p = new PickleBuilder().Proto(2);
        switch (name)
        {
            case "os.system": p.Global("os", "system").Str("id").Op(0x85).Reduce(); break;
            case "nt.system": p.Global("nt", "system").Str("dir").Op(0x85).Reduce(); break;
            case "builtins.eval": p.Global("builtins", "eval").Str("__import__('os').system('id')").Op(0x85).Reduce(); break;
            case "builtins.exec-via-stack-global": p = new PickleBuilder().Proto(4).StackGlobal("builtins", "exec").ShortStr("1").Op(0x85).Reduce(); break;
            case "subprocess.Popen-via-stack-global": p = new PickleBuilder().Proto(4).StackGlobal("subprocess", "Popen").ShortStr("id").Op(0x85).Reduce(); break;
            case "torch.load": p.Global("torch", "load").Str("x").Op(0x85).Reduce(); break;
            case "INST": p.Mark().Str("id").Op('i').Ascii("os\nsystem\n"); break;
            case "OBJ": p.Mark().EmptyDict().Op('o'); break;
            case "NEWOBJ": p.Global("collections", "OrderedDict").EmptyTuple().Op(0x81); break;
            case "EXT1": p.Op(0x82, 0x01); break;
            case "PERSID": p.Op('P').Ascii("0\n"); break;
            case "BINBYTES": p.Op('B').Op(BitConverter.GetBytes(1)).Op(0x41); break;
            case "unknown-opcode": p.Op(0xFF); break;
            case "BUILD-on-tensor": p.Tensor("FloatStorage", "0", 6, 0, [6], [1]).EmptyDict().Build(); break;
            case "BUILD-on-plain-dict": p.EmptyDict().EmptyDict().Build(); break;
            case "call-storage-class": p.Global("torch", "FloatStorage").EmptyTuple().Reduce(); break;
            case "backward-hooks":
                p.Global("torch._utils", "_rebuild_tensor_v2").Mark()
                    .Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(6).Tuple().BinPersId()
                    .Int(0).IntTuple(6).IntTuple(1).False()
                    .Global("collections", "OrderedDict").EmptyTuple().Reduce().Str("0").Str("hook").SetItem()
                    .Tuple().Reduce();
                break;
            case "reduce-non-global": p.EmptyDict().EmptyTuple().Reduce(); break;
            default: throw new ArgumentException(name);
        }
        return p.Stop().ToArray();
    }

    [Theory]
    [MemberData(nameof(SecurityCases))]
    public void ForbiddenOpcodesAndGlobalsAreRefusedByName(string name, string expected)
    {
        string path = _tmp.File(name + ".bin");
        PickleBuilder.WriteTorchZip(path, SecurityPickle(name), new Dictionary<string, byte[]> { ["0"] = Floats(0, 1, 2, 3, 4, 5) });
        var e = Assert.Throws<PickleSecurityException>(() => PyTorchPickle.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    public static TheoryData<string, string> FormatCases => new()
    {
        { "offset-beyond-storage", "reads element 6 of storage '0', which has 6" },
        { "stride-beyond-storage", "reads element 6 of storage '0', which has 6" },
        { "storage-length-mismatch", "entry 'archive/data/0' holds 20 bytes" },
        { "missing-storage-entry", "storage '9' has no entry 'archive/data/9'" },
        { "storage-key-traversal", "storage key '../0' is not a plain entry name" },
        { "no-data-pkl", "no '<folder>/data.pkl' entry" },
        { "two-data-pkl", "2 '<folder>/data.pkl' entries" },
        { "not-a-zip", "does not start with a zip signature" },
        { "legacy-format", "legacy (torch < 1.6) non-zip torch.save format" },
        { "big-endian", "only little-endian checkpoints are supported" },
        { "truncated-no-stop", "ends without a STOP opcode" },
        { "truncated-mid-string", "runs past the end of the pickle" },
        { "top-level-list", "not a state dict" },
        { "nested-checkpoint", "entry 'model' of the state dict is not a tensor" },
        { "memo-before-put", "memo entry 5 is read before it is written" },
        { "rank-mismatch", "has 2 sizes but 1 strides" },
        { "size-overflow", "overflow" },
        { "stack-underflow", "stack underflow" },
        { "setitems-odd", "odd number of items" },
        { "non-string-key", "dict key is an integer, not a string" },
        { "negative-numel", "numel is not a non-negative integer" },
        { "numel-overflow", "numel 4611686018427387904 overflows" },
        { "protocol-6", "pickle protocol 6" },
        { "storage-type-conflict", "storage '0' is named twice with different types or sizes" },
    };

    private static void WriteFormatCase(string name, string path)
    {
        var st = new Dictionary<string, byte[]> { ["0"] = Floats(0, 1, 2, 3, 4, 5) };
        PickleBuilder One(Action<PickleBuilder> value) { var p = new PickleBuilder().Proto(2).EmptyDict().Str(name == "nested-checkpoint" ? "model" : "x"); value(p); return p.SetItem().Stop(); }
        byte[] Pkl(Action<PickleBuilder> value) => One(value).ToArray();
        switch (name)
        {
            case "offset-beyond-storage": PickleBuilder.WriteTorchZip(path, Pkl(p => p.Tensor("FloatStorage", "0", 6, 5, [2], [1])), st); break;
            case "stride-beyond-storage": PickleBuilder.WriteTorchZip(path, Pkl(p => p.Tensor("FloatStorage", "0", 6, 0, [2, 3], [4, 1])), st); break;
            case "storage-length-mismatch":
                PickleBuilder.WriteTorchZip(path, Pkl(p => p.Tensor("FloatStorage", "0", 6, 0, [6], [1])), new Dictionary<string, byte[]> { ["0"] = new byte[20] });
                break;
            case "missing-storage-entry": PickleBuilder.WriteTorchZip(path, Pkl(p => p.Tensor("FloatStorage", "9", 6, 0, [6], [1])), st); break;
            case "storage-key-traversal": PickleBuilder.WriteTorchZip(path, Pkl(p => p.Tensor("FloatStorage", "../0", 6, 0, [6], [1])), st); break;
            case "no-data-pkl":
                {
                    using var fs = new FileStream(path, FileMode.Create);
                    using var zip = new System.IO.Compression.ZipArchive(fs, System.IO.Compression.ZipArchiveMode.Create);
                    using var s = zip.CreateEntry("archive/version").Open();
                    s.Write("3\n"u8);
                    break;
                }
            case "two-data-pkl":
                {
                    using var fs = new FileStream(path, FileMode.Create);
                    using var zip = new System.IO.Compression.ZipArchive(fs, System.IO.Compression.ZipArchiveMode.Create);
                    foreach (var top in new[] { "a", "b" })
                    {
                        using var s = zip.CreateEntry($"{top}/data.pkl").Open();
                        s.Write(new PickleBuilder().Proto().EmptyDict().Stop().ToArray());
                    }
                    break;
                }
            case "not-a-zip": File.WriteAllText(path, "hello, this is not a checkpoint"); break;
            case "legacy-format": File.WriteAllBytes(path, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]); break;
            case "big-endian": PickleBuilder.WriteTorchZip(path, Pkl(p => p.Tensor("FloatStorage", "0", 6, 0, [6], [1])), st, byteorder: "big"); break;
            case "truncated-no-stop":
                {
                    var full = Pkl(p => p.Tensor("FloatStorage", "0", 6, 0, [6], [1]));
                    PickleBuilder.WriteTorchZip(path, full[..^1], st);
                    break;
                }
            case "truncated-mid-string": PickleBuilder.WriteTorchZip(path, new PickleBuilder().Proto().Op('X').Op(0xFF, 0xFF, 0xFF, 0x7F).Ascii("abc").ToArray()); break;
            case "top-level-list": PickleBuilder.WriteTorchZip(path, new PickleBuilder().Proto().EmptyList().Stop().ToArray()); break;
            case "nested-checkpoint": PickleBuilder.WriteTorchZip(path, Pkl(p => p.EmptyDict()), st); break;
            case "memo-before-put": PickleBuilder.WriteTorchZip(path, new PickleBuilder().Proto().Get(5).Stop().ToArray()); break;
            case "rank-mismatch": PickleBuilder.WriteTorchZip(path, Pkl(p => p.Tensor("FloatStorage", "0", 6, 0, [2, 3], [1])), st); break;
            case "size-overflow": PickleBuilder.WriteTorchZip(path, Pkl(p => p.Tensor("FloatStorage", "0", 6, 0, [1L << 40, 1L << 40], [1, 1])), st); break;
            case "stack-underflow": PickleBuilder.WriteTorchZip(path, new PickleBuilder().Proto().Reduce().Stop().ToArray()); break;
            case "setitems-odd": PickleBuilder.WriteTorchZip(path, new PickleBuilder().Proto().EmptyDict().Mark().Str("a").SetItems().Stop().ToArray()); break;
            case "non-string-key": PickleBuilder.WriteTorchZip(path, new PickleBuilder().Proto().EmptyDict().Int(1).Int(2).SetItem().Stop().ToArray()); break;
            case "negative-numel": PickleBuilder.WriteTorchZip(path, Pkl(p => p.Tensor("FloatStorage", "0", -1, 0, [6], [1])), st); break;
            case "numel-overflow": PickleBuilder.WriteTorchZip(path, Pkl(p => p.Tensor("FloatStorage", "0", 1L << 62, 0, [6], [1])), st); break;
            case "protocol-6": PickleBuilder.WriteTorchZip(path, new PickleBuilder().Proto(6).EmptyDict().Stop().ToArray()); break;
            case "storage-type-conflict":
                {
                    var p = new PickleBuilder().Proto().EmptyDict().Mark()
                        .Str("a").Tensor("FloatStorage", "0", 6, 0, [6], [1])
                        .Str("b").Tensor("IntStorage", "0", 6, 0, [6], [1])
                        .SetItems().Stop();
                    PickleBuilder.WriteTorchZip(path, p.ToArray(), st);
                    break;
                }
            default: throw new ArgumentException(name);
        }
    }

    [Theory]
    [MemberData(nameof(FormatCases))]
    public void MalformedArchivesAndPicklesAreRejectedWithTheirPlace(string name, string expected)
    {
        string path = _tmp.File(name + ".bin");
        WriteFormatCase(name, path);
        var e = Assert.Throws<PyTorchCheckpointException>(() => PyTorchPickle.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task FuzzedPicklesOnlyEverFailWithCheckpointExceptions()
    {
        byte[] seed = ValidPickle();
        var storages = ValidStorages();
        var rng = new Random(77);
        int rejected = 0, accepted = 0;
        var failures = new List<string>();
        string path = _tmp.File("fuzz.bin");
        var work = Task.Run(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                byte[] b = (byte[])seed.Clone();
                switch (i % 3)
                {
                    case 0:
                        for (int n = rng.Next(1, 4); n > 0; n--) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                        break;
                    case 1:
                        b = b[..rng.Next(b.Length)];
                        break;
                    default:
                        int at = rng.Next(b.Length);
                        var ins = new byte[rng.Next(1, 6)];
                        rng.NextBytes(ins);
                        b = [.. b[..at], .. ins, .. b[at..]];
                        break;
                }
                PickleBuilder.WriteTorchZip(path, b, storages);
                try
                {
                    foreach (var t in PyTorchPickle.Load(path).Values) t.Dispose();
                    accepted++;
                }
                catch (PyTorchCheckpointException e)
                {
                    if (!e.Message.Contains(path)) failures.Add($"case {i}: message lacks the path: {e.Message}");
                    rejected++;
                }
                catch (Exception e)
                {
                    failures.Add($"case {i}: {e.GetType().Name}: {e.Message}");
                }
            }
        });
        await work.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(rejected > 100, $"only {rejected} of 200 mutations were rejected");
    }
}
