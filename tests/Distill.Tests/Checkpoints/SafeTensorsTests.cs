using System.Text;
using System.Text.Json;
using Distill.Checkpoints;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Checkpoints;

/// <summary>Valid safetensors files: the HF reference checkpoints, every dtype, edge shapes, gaps, atomic saves, shards.</summary>
public sealed class SafeTensorsTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static string BertCls => Path.Combine(TestPaths.Hf("bert-tiny-random-BertForSequenceClassification"), "model.safetensors");

    internal static bool BitEqual(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.contiguous().bytes.SequenceEqual(b.contiguous().bytes);

    [Fact]
    public void ReadsTheHfReferenceCheckpointAsDocumented()
    {
        var (infos, meta, dataStart) = SafeTensors.ReadHeader(BertCls);
        Assert.Equal(41, infos.Count);
        Assert.Equal("pt", meta["format"]);
        Assert.Equal(0, dataStart % 8); // HF pads the header to a multiple of 8
        var t = SafeTensors.Load(BertCls);
        Assert.Equal(41, t.Count);
        Assert.Equal(new long[] { 30522, 32 }, t["bert.embeddings.word_embeddings.weight"].shape);
        Assert.Equal(new long[] { 37, 32 }, t["bert.encoder.layer.0.intermediate.dense.weight"].shape);
        Assert.Equal(new long[] { 32, 37 }, t["bert.encoder.layer.1.output.dense.weight"].shape);
        Assert.Equal(new long[] { 2, 32 }, t["classifier.weight"].shape);
        Assert.All(t.Values, v => Assert.Equal(ScalarType.Float32, v.dtype));
        // SOURCES.md: norm weights were set to 1 + 0.1*N(0,1), so they are near 1 but not all exactly 1.
        var ln = t["bert.embeddings.LayerNorm.weight"];
        Assert.InRange(ln.mean().item<float>(), 0.9f, 1.1f);
        Assert.False(ln.eq(1f).all().item<bool>());
    }

    [Theory]
    [InlineData("bert-tiny-random-BertForSequenceClassification")]
    [InlineData("bert-tiny-random-student-BertForSequenceClassification")]
    [InlineData("vit-tiny-random-ViTModel")]
    public void WriterReproducesTheHfReferenceFileByteForByte(string folder)
    {
        // The reference files follow the HF layout (sorted keys, compact JSON, contiguous data from 0, space padding to 8,
        // __metadata__ {"format":"pt"}); our writer must produce exactly the same bytes from the same tensors.
        string reference = Path.Combine(TestPaths.Hf(folder), "model.safetensors");
        string path = _tmp.File(folder + ".safetensors");
        SafeTensors.Save(path, SafeTensors.Load(reference), new Dictionary<string, string> { ["format"] = "pt" });
        Assert.Equal(File.ReadAllBytes(reference), File.ReadAllBytes(path));
    }

    [Fact]
    public void RoundTripsEveryWriterDtypeScalarsEmptyTensorsAndNonAsciiNames()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = torch.tensor(new float[] { 1.5f, -2.25f, float.MaxValue, float.Epsilon }).reshape(2, 2),
            ["f16"] = torch.tensor(new float[] { 0.5f, -65504f, 3f }).to(ScalarType.Float16),
            ["bf16"] = torch.tensor(new float[] { 1f, -3.140625f, 1e30f }).to(ScalarType.BFloat16),
            ["i64"] = torch.tensor(new long[] { long.MinValue, -1, long.MaxValue }),
            ["i32"] = torch.tensor(new int[] { int.MinValue, 7 }),
            ["u8"] = torch.tensor(new byte[] { 0, 200, 255 }),
            ["bool"] = torch.tensor(new bool[] { true, false, true }),
            ["f64"] = torch.tensor(new double[] { Math.PI }),
            ["scalar"] = torch.tensor(42.5f),              // shape []
            ["empty"] = torch.zeros(0, 3),                  // numel 0
            ["émbed.权重.🙂"] = torch.arange(6, dtype: ScalarType.Int32).reshape(3, 2),
            ["strided"] = torch.arange(12f).reshape(3, 4).t(), // non-contiguous: written contiguously
        };
        string path = _tmp.File("all.safetensors");
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ü" });
        var back = SafeTensors.Load(path);
        Assert.Equal(tensors.Keys.Order(), back.Keys.Order());
        foreach (var (k, v) in tensors) Assert.True(BitEqual(v, back[k]), k);
        Assert.Empty(back["scalar"].shape);
        Assert.Equal(new long[] { 0, 3 }, back["empty"].shape);
        var (infos, meta, dataStart) = SafeTensors.ReadHeader(path);
        Assert.Equal("ü", meta["note"]);
        Assert.Equal(0, dataStart % 8);
        Assert.Equal(infos.Select(i => i.Name).Order(StringComparer.Ordinal), infos.Select(i => i.Name)); // sorted keys
        Assert.Equal((byte)'{', File.ReadAllBytes(path)[8]);
    }

    [Fact]
    public void GapsBetweenTensorsAndSpacePaddingAreAccepted()
    {
        // a at bytes [0,4), 4 unused bytes, b at [8,12); header followed by spaces.
        string header = """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[],"data_offsets":[8,12]}}    """;
        var data = new byte[12];
        BitConverter.GetBytes(2.5f).CopyTo(data, 0);
        BitConverter.GetBytes(-7).CopyTo(data, 8);
        string path = _tmp.File("gap.safetensors");
        File.WriteAllBytes(path, SafeTensorsMalformedTests.Craft(header, data));
        var t = SafeTensors.Load(path);
        Assert.Equal(2.5f, t["a"][0].item<float>());
        Assert.Equal(-7, t["b"].item<int>());
    }

    [Fact]
    public void SaveIsAtomicAndRefusesUnsupportedDtypesWithoutTouchingTheTarget()
    {
        string path = _tmp.File("x.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = torch.ones(2) });
        byte[] before = File.ReadAllBytes(path);
        var e = Assert.Throws<ArgumentException>(() =>
            SafeTensors.Save(path, new Dictionary<string, Tensor> { ["ok"] = torch.ones(1), ["c"] = torch.zeros(2, ScalarType.ComplexFloat32) }));
        Assert.Contains("'c'", e.Message);
        Assert.Contains("ComplexFloat32", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, new Dictionary<string, Tensor> { ["__metadata__"] = torch.ones(1) }));
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = torch.full(3, 2f) }); // overwrite works
        Assert.Equal(3, SafeTensors.Load(path)["w"].shape[0]);
        Assert.Equal(["x.safetensors"], Directory.GetFiles(_tmp.Path).Select(Path.GetFileName));
    }

    /// <summary>Splits the HF reference checkpoint into two shards with an HF-style index.</summary>
    private string WriteShards(string folder, Action<Dictionary<string, string>>? editMap = null,
        Action<Dictionary<string, Tensor>, Dictionary<string, Tensor>>? editShards = null)
    {
        Directory.CreateDirectory(folder);
        var all = SafeTensors.Load(BertCls);
        var keys = all.Keys.Order(StringComparer.Ordinal).ToList();
        var s1 = keys.Take(20).ToDictionary(k => k, k => all[k]);
        var s2 = keys.Skip(20).ToDictionary(k => k, k => all[k]);
        const string f1 = "model-00001-of-00002.safetensors", f2 = "model-00002-of-00002.safetensors";
        var map = s1.Keys.ToDictionary(k => k, _ => f1);
        foreach (var k in s2.Keys) map[k] = f2;
        editMap?.Invoke(map);
        editShards?.Invoke(s1, s2);
        SafeTensors.Save(Path.Combine(folder, f1), s1, new Dictionary<string, string> { ["format"] = "pt" });
        SafeTensors.Save(Path.Combine(folder, f2), s2, new Dictionary<string, string> { ["format"] = "pt" });
        string json = JsonSerializer.Serialize(new { metadata = new { total_size = 4036000 }, weight_map = map });
        File.WriteAllText(Path.Combine(folder, SafeTensors.IndexFileName), json);
        return folder;
    }

    [Fact]
    public void LoadsAShardedCheckpointIdenticalToTheSingleFile()
    {
        string folder = WriteShards(_tmp.File("sharded"));
        var sharded = SafeTensors.LoadSharded(folder);
        var single = SafeTensors.Load(BertCls);
        Assert.Equal(single.Keys.Order(), sharded.Keys.Order());
        foreach (var (k, v) in single) Assert.True(BitEqual(v, sharded[k]), k);
    }

    [Fact]
    public void ShardedIndexProblemsAreNamed()
    {
        string Err(string name, Action<string> breakIt)
        {
            string folder = WriteShards(_tmp.File(name));
            breakIt(folder);
            var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.LoadSharded(folder));
            Assert.Contains(Path.Combine(folder, SafeTensors.IndexFileName), e.Message);
            return e.Message;
        }
        string index(string f) => Path.Combine(f, SafeTensors.IndexFileName);

        Assert.Contains("shard file(s) not found", Err("missing-shard", f => File.Delete(Path.Combine(f, "model-00002-of-00002.safetensors"))));
        Assert.Contains("no 'weight_map'", Err("no-map", f => File.WriteAllText(index(f), """{"metadata":{}}""")));
        Assert.Contains("weight_map is empty", Err("empty-map", f => File.WriteAllText(index(f), """{"weight_map":{}}""")));
        Assert.Contains("not a plain file name", Err("traversal", f => File.WriteAllText(index(f), """{"weight_map":{"a":"../model.safetensors"}}""")));
        Assert.Contains("not a file name string", Err("non-string", f => File.WriteAllText(index(f), """{"weight_map":{"a":3}}""")));
        Assert.Contains("lists tensor 'a' twice", Err("dup", f => File.WriteAllText(index(f),
            """{"weight_map":{"a":"model-00001-of-00002.safetensors","a":"model-00002-of-00002.safetensors"}}""")));
        Assert.Contains("not valid JSON", Err("bad-json", f => File.WriteAllText(index(f), """{"weight_map":""")));
    }

    [Fact]
    public void ShardContentsMustMatchTheMap()
    {
        // classifier.bias is written into shard 1 as well as shard 2: a key in two shards.
        string f1 = WriteShards(_tmp.File("dup-key"), editShards: (s1, s2) => s1["classifier.bias"] = s2["classifier.bias"]);
        var e1 = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.LoadSharded(f1));
        Assert.Contains("classifier.bias", e1.Message);
        Assert.Contains("mapped elsewhere", e1.Message);

        // The map names a key that no shard holds.
        string f2 = WriteShards(_tmp.File("ghost"), editMap: m => m["ghost.weight"] = "model-00001-of-00002.safetensors");
        var e2 = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.LoadSharded(f2));
        Assert.Contains("mapped to it but absent: ghost.weight", e2.Message);

        // A shard holds a key the map does not list.
        string f3 = WriteShards(_tmp.File("unlisted"), editMap: m => m.Remove("classifier.weight"));
        var e3 = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.LoadSharded(f3));
        Assert.Contains("classifier.weight", e3.Message);
        Assert.Contains("model-00002-of-00002.safetensors", e3.Message);
    }
}
