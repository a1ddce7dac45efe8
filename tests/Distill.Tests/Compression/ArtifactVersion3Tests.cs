using Distill.Compression.Artifact;
using Distill.Compression.Quantization;
using Distill.Models;
using Distill.Models.Mlp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

/// <summary>What format version 3 added (docs/artifact-format.md): scales stored as exponents of 2^(1/16) (flag bit 4)
/// and AFFINE values (values_kind 5, the export option <c>float_bits</c>); and that version-2 files still read.</summary>
public class ArtifactVersion3Tests
{
    private static string TempFile() => Path.Combine(Path.GetTempPath(), "distill-tests", $"artifact-{Guid.NewGuid():N}.dcmp");

    /// <summary>float32(2^(k/16)), computed here independently of the encoder.</summary>
    private static float Pow16(int k) => (float)Math.Pow(2.0, k / 16.0);

    [Fact]
    public void CompactScales_AreStoredAsExponents_ByteExact()
    {
        // 4 channels × 4 weights, 4-bit symmetric, scales 2^(k/16) with k = −64, −63, −60, −64: exponents base −64,
        // codes 0 1 4 0 at 3 bits (range 4) = 000 001 100 000 → 0x06 0x00. Scales: steps 16, zigzag(−64) = 127, width 3,
        // 2 code bytes = 5 bytes (a codebook would take 1 + 1 + 3 × 4 + 1 = 15, float32s 16).
        float[] scales = [Pow16(-64), Pow16(-63), Pow16(-60), Pow16(-64)];
        var q = new LinearQuantParams(4, true, true, scales, [8, 8, 8, 8]);
        int[] codes = [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 9, 1];
        var data = codes.Select((c, i) => scales[i / 4] * (c - 8)).ToArray();
        using var t = torch.tensor(data).view(4, 4);
        var options = new ArtifactOptions { Huffman = false, Linear = new Dictionary<string, LinearQuantParams> { ["w"] = q } };
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("w", t)], options);
        var w = plan.Tensors[0];
        Assert.Equal(ValueKind.Linear, w.Values);
        Assert.Null(w.ScaleCodebook);
        Assert.Equal((16, -64, 3), (w.ScaleSteps, w.ScaleExponentBase, w.ScaleBits));
        // Record: name 3 + rank/dims 3 + kinds/flags 3 + bits/per_channel/symmetric 3 + scales 5 + 16 four-bit codes 8 = 25.
        Assert.Equal(25, w.PredictedBytes);
        string path = TempFile();
        try
        {
            Assert.Equal(16 + 25, ArtifactEncoder.Write(plan, path));
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(3, bytes[4]);
            byte[] record =
            [
                0x00, 0x01, 0x77, 0x02, 0x04, 0x04, 0x02, 0x00, 0x10, // "w", [4, 4], LINEAR, ALL, flags 16
                0x04, 0x01, 0x01,                                     // 4 bits, per channel, symmetric
                0x10, 0x7F, 0x03, 0x06, 0x00,                         // 16 steps, base −64, 3-bit codes 0 1 4 0
                0x12, 0x34, 0x56, 0x79, 0xAB, 0xCD, 0xEF, 0x91,       // the value codes
            ];
            Assert.Equal(record, bytes[16..]);
            using var back = ArtifactReader.Read(path);
            Assert.True(t.eq(back.Tensors["w"]).all().item<bool>());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void QuantizerCompactScales_AreExponentCoded_AndDecodeBitExactly()
    {
        var g = ParamInit.Seeded(5);
        using var raw = torch.randn(96, 40, generator: g) * torch.linspace(0.2f, 3f, 96).unsqueeze(1);
        var grid = WeightQuantizer.Grid(raw, new QuantScheme(4, PerChannel: true, Symmetric: true, CompactScales: true));
        using var w = WeightQuantizer.FakeQuantize(raw, grid);
        var grids = new Dictionary<string, LinearQuantParams> { ["w"] = grid };
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("w", w)], new ArtifactOptions { Linear = grids });
        Assert.Equal(16, plan.Tensors[0].ScaleSteps);
        // Cheaper than the version-2 scale codebook of the same scales (K float32 entries).
        int distinct = grid.Scales.Distinct().Count();
        Assert.True(distinct > 4, $"{distinct} distinct scales: the test needs several");
        Assert.True(plan.Tensors[0].PredictedBytes + 3 * distinct < PlanWithoutExponents(w, grid), "exponents are not smaller than the codebook");
        string path = TempFile();
        try
        {
            Assert.Equal(plan.PredictedBytes, ArtifactEncoder.Write(plan, path));
            using var back = ArtifactReader.Read(path);
            Assert.True(w.eq(back.Tensors["w"]).all().item<bool>(), "decoded weights differ from the quantizer's");
        }
        finally { File.Delete(path); }
    }

    /// <summary>The same tensor with one scale off the 2^(1/16) grid: exponents impossible, the codebook is used.</summary>
    private static long PlanWithoutExponents(Tensor w, LinearQuantParams grid)
    {
        var scales = (float[])grid.Scales.Clone();
        var off = grid with { Scales = scales };
        scales[0] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(scales[0]) + 1);
        using var folded = WeightQuantizer.FakeQuantize(w, off);
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("w", folded)],
            new ArtifactOptions { Linear = new Dictionary<string, LinearQuantParams> { ["w"] = off } }).Tensors[0];
        Assert.Equal(0, plan.ScaleSteps);
        Assert.NotNull(plan.ScaleCodebook);
        return plan.PredictedBytes;
    }

    [Fact]
    public void FloatBits_StoresFloatsOnAnAffineGrid_ByteExact()
    {
        // b = [−1, 0.5, 2, 0] at 2 bits: offset −1, step (2 − (−1)) / 3 = 1; codes 0, round(1.5) = 2 (to even), 3, 1 →
        // 00 10 11 01 = 0x2D, decoded [−1, 1, 2, 0]. Values: bits 1 + offset 4 + step 4 + codes 1 = 10 bytes (float32: 16).
        using var t = torch.tensor(new[] { -1f, 0.5f, 2f, 0f });
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("b", t)], new ArtifactOptions { Huffman = false, FloatBits = 2 });
        var b = plan.Tensors[0];
        Assert.Equal(ValueKind.Affine, b.Values);
        Assert.Equal(PositionKind.All, b.Positions);
        Assert.Equal(0.5, b.MaxAbsError);
        Assert.Equal(3 + 2 + 3 + 10, b.PredictedBytes);
        string path = TempFile();
        try
        {
            Assert.Equal(16 + 18, ArtifactEncoder.Write(plan, path));
            byte[] record =
            [
                0x00, 0x01, 0x62, 0x01, 0x04, 0x05, 0x00, 0x00, // "b", [4], AFFINE, ALL, no flags
                0x02, 0x00, 0x00, 0x80, 0xBF, 0x00, 0x00, 0x80, 0x3F, // 2 bits, offset −1.0f, step 1.0f
                0x2D,
            ];
            Assert.Equal(record, File.ReadAllBytes(path)[16..]);
            using var back = ArtifactReader.Read(path);
            Assert.Equal(new[] { -1f, 1f, 2f, 0f }, back.Tensors["b"].data<float>().ToArray());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void FloatBitsOff_KeepsFloats_AndAConstantTensorIsExact()
    {
        using var t = torch.tensor(new[] { 0.1f, 0.7f, -0.3f, 0.25f, 0.9f, -0.8f });
        Assert.Equal(ValueKind.F32, ArtifactEncoder.Plan("mlp", "{}", [("b", t)], new ArtifactOptions { Codebooks = false }).Tensors[0].Values);
        // All values equal: step 0, every code 0, decoded exactly (a codebook of one value is smaller and also exact).
        using var c = torch.full(40, 1.375f);
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("c", c)], new ArtifactOptions { Codebooks = false, FloatBits = 8 });
        Assert.Equal(ValueKind.Affine, plan.Tensors[0].Values);
        Assert.Equal(0, plan.Tensors[0].MaxAbsError);
        string path = TempFile();
        try
        {
            Assert.Equal(plan.PredictedBytes, ArtifactEncoder.Write(plan, path));
            using var back = ArtifactReader.Read(path);
            Assert.True(c.eq(back.Tensors["c"]).all().item<bool>());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void QuantizedModelWithFloatBits_LoadsBackAsTheDequantizedModel()
    {
        var g = ParamInit.Seeded(21);
        using var model = ParamInit.Build(g, () => new MlpModel(new MlpConfig { InputSize = 64, HiddenSizes = [48, 24], NumLabels = 10 }));
        var grids = new Dictionary<string, LinearQuantParams>();
        using (torch.no_grad())
        {
            foreach (var (name, p) in model.named_parameters())
            {
                if (!name.EndsWith("weight", StringComparison.Ordinal)) continue;
                var grid = WeightQuantizer.Grid(p, new QuantScheme(4, PerChannel: true, Symmetric: true, CompactScales: true));
                using var q = WeightQuantizer.FakeQuantize(p, grid);
                p.copy_(q);
                grids[name] = grid;
            }
            // Biases well away from 0 (as LayerNorm weights are): the grid spans [min, max] only.
            foreach (var (name, p) in model.named_parameters())
                if (name.EndsWith("bias", StringComparison.Ordinal)) p.copy_(torch.rand(p.shape, generator: g) * 0.25 + 1);
        }
        var plan = ModelArtifact.Plan(model, new ArtifactOptions { FloatBits = 8, Linear = grids });
        string path = TempFile();
        try
        {
            Assert.Equal(plan.PredictedBytes, ArtifactEncoder.Write(plan, path));
            Assert.Equal(plan.PredictedBytes, new FileInfo(path).Length);
            using var loaded = ModelArtifact.Load(path, Distill.Models.ModelRegistry.Default);
            var a = model.state_dict();
            var b = loaded.state_dict();
            Assert.Equal(a.Keys.Order(), b.Keys.Order());
            foreach (var (k, v) in a)
            {
                var got = b[k].data<float>().ToArray();
                if (grids.ContainsKey(k))
                {
                    Assert.True(v.eq(b[k]).all().item<bool>(), $"{k}: quantized weight not decoded exactly");
                    Assert.Equal(16, plan.Tensors.Single(t => t.Name == k).ScaleSteps);
                    continue;
                }
                // Independent dequantization: 255 steps over [min, max], nearest level.
                var x = v.data<float>().ToArray();
                float lo = x.Min(), step = (x.Max() - lo) / 255;
                Assert.Equal(ValueKind.Affine, plan.Tensors.Single(t => t.Name == k).Values);
                for (int i = 0; i < x.Length; i++)
                {
                    float expected = lo + step * MathF.Round((x[i] - lo) / step);
                    Assert.Equal(expected, got[i]);
                    Assert.True(Math.Abs(got[i] - x[i]) <= step / 2 * 1.0001, $"{k}[{i}]: error {Math.Abs(got[i] - x[i])} above half a step {step / 2}");
                }
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Version2Files_StillRead_AndVersion3FeaturesAreRejectedInThem()
    {
        // A file without version-3 features is version 2 but for the version byte and the layout byte (at 15, after the
        // tensor count): version 2 has no layout byte.
        using var t = torch.tensor(new[] { 1.5f, 1.5f, -2f });
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("b", t)], new ArtifactOptions());
        string path = TempFile();
        try
        {
            ArtifactEncoder.Write(plan, path);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(0, bytes[15]);
            bytes = [.. bytes[..15], .. bytes[16..]];
            bytes[4] = 2;
            File.WriteAllBytes(path, bytes);
            using (var back = ArtifactReader.Read(path)) Assert.True(t.eq(back.Tensors["b"]).all().item<bool>());

            // An AFFINE record or an exponent-scale flag in a version-2 file is an error naming the kind / flag.
            using var f = torch.tensor(new[] { -1f, 0.5f, 2f, 0f });
            ArtifactEncoder.Write(ArtifactEncoder.Plan("mlp", "{}", [("b", f)], new ArtifactOptions { Huffman = false, FloatBits = 2 }), path);
            bytes = File.ReadAllBytes(path);
            bytes = [.. bytes[..15], .. bytes[16..]];
            bytes[4] = 2;
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("values_kind 5 (affine) needs format version 3", e.Message);

            bytes[4] = 5; // the newest version is 4 (BLOOMIER records)
            File.WriteAllBytes(path, bytes);
            e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("format version 5", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MalformedVersion3Records_AreClearErrors()
    {
        float[] scales = [Pow16(-64), Pow16(-63), Pow16(-60), Pow16(-64)];
        var q = new LinearQuantParams(4, true, true, scales, [8, 8, 8, 8]);
        var data = Enumerable.Range(0, 16).Select(i => scales[i / 4] * (i % 7 + 1)).ToArray();
        using var t = torch.tensor(data).view(4, 4);
        var options = new ArtifactOptions { Huffman = false, Linear = new Dictionary<string, LinearQuantParams> { ["w"] = q } };
        string path = TempFile();
        try
        {
            ArtifactEncoder.Write(ArtifactEncoder.Plan("mlp", "{}", [("w", t)], options), path);
            var good = File.ReadAllBytes(path);
            // Flags 16 | 4: exponents and a codebook at once.
            var bytes = (byte[])good.Clone();
            bytes[16 + 8] = 0x14;
            File.WriteAllBytes(path, bytes);
            Assert.Contains("excludes flag 4", Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path)).Message);
            // Exponent code width 0.
            bytes = (byte[])good.Clone();
            bytes[16 + 14] = 0;
            File.WriteAllBytes(path, bytes);
            Assert.Contains("scale exponent width 0", Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path)).Message);
            // Truncated in the exponent codes.
            File.WriteAllBytes(path, good[..(16 + 16)]);
            Assert.Contains("ends early", Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path)).Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void WithoutTensorNames_TheModelLoadsBackIdentically_AndOnlyNamesAndDimsAreSaved()
    {
        var g = ParamInit.Seeded(22);
        using var model = ParamInit.Build(g, () => new MlpModel(new MlpConfig { InputSize = 64, HiddenSizes = [48, 24], NumLabels = 10 }));
        var named = ModelArtifact.Plan(model, new ArtifactOptions { FloatBits = 8 });
        var unnamed = ModelArtifact.Plan(model, new ArtifactOptions { FloatBits = 8, TensorNames = false });
        // Independent count of what layout 1 leaves out: each front-coded name (varint shared, varint suffix length,
        // suffix) plus rank and varint dims; it adds a 4-byte layout hash.
        long saved = 0;
        string previous = "";
        foreach (var (name, tensor) in model.state_dict())
        {
            int shared = 0;
            while (shared < previous.Length && shared < name.Length && previous[shared] == name[shared]) shared++;
            saved += 1 + 1 + (name.Length - shared) + 1 + tensor.shape.Sum(d => d < 128 ? 1 : 2);
            previous = name;
        }
        Assert.Equal(saved - 4, named.PredictedBytes - unnamed.PredictedBytes);
        string path = TempFile();
        try
        {
            Assert.Equal(unnamed.PredictedBytes, ArtifactEncoder.Write(unnamed, path));
            using var loaded = ModelArtifact.Load(path, Distill.Models.ModelRegistry.Default);
            string namedPath = TempFile();
            try
            {
                ArtifactEncoder.Write(named, namedPath);
                using var reference = ModelArtifact.Load(namedPath, Distill.Models.ModelRegistry.Default);
                var a = reference.state_dict();
                var b = loaded.state_dict();
                Assert.Equal(a.Keys, b.Keys);
                foreach (var (k, v) in a) Assert.True(v.eq(b[k]).all().item<bool>(), k);
            }
            finally { File.Delete(namedPath); }

            // Without the model registry nothing can name the records.
            var e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("no tensor names (layout 1)", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void WithoutTensorNames_AModelThatDiffersFromTheWritersIsAClearError()
    {
        var g = ParamInit.Seeded(23);
        using var model = ParamInit.Build(g, () => new MlpModel(new MlpConfig { InputSize = 8, HiddenSizes = [6], NumLabels = 3 }));
        // The writer's tensors in another order than the model of the header builds them: the layout hash differs.
        var tensors = model.state_dict().Reverse().Select(kv => (kv.Key, kv.Value)).ToList();
        string config = System.Text.Json.JsonSerializer.Serialize(model.Config, model.Config.GetType());
        var plan = ArtifactEncoder.Plan("mlp", config, tensors, new ArtifactOptions { TensorNames = false });
        string path = TempFile();
        try
        {
            ArtifactEncoder.Write(plan, path);
            var e = Assert.Throws<InvalidDataException>(() => ModelArtifact.Load(path, Distill.Models.ModelRegistry.Default));
            Assert.Contains("do not match the writer's", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void HuffmanTables_HoldTwoLengthsPerByte_ByteExact_AndVersion2ByteTablesStillRead()
    {
        // 50 × 1.0, 6 × 2.0, 4 × 3.0: a codebook of 3 (2-bit indices 0, 1, 2 with frequencies 50, 6, 4). Huffman lengths
        // 1, 2, 2 (2 and 1 merge first): canonical codes 0, 10, 11; 50 + 12 + 8 = 70 bits = 9 bytes. Stream: table of 4
        // nibbles 1 2 2 0 = 0x12 0x20, varint 9, codes — 12 bytes against 15 at fixed width.
        var data = Enumerable.Repeat(1f, 50).Concat(Enumerable.Repeat(2f, 6)).Concat(Enumerable.Repeat(3f, 4)).ToArray();
        using var t = torch.tensor(data);
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("b", t)], new ArtifactOptions());
        Assert.Equal(ValueKind.Codebook, plan.Tensors[0].Values);
        Assert.Equal(new[] { 1, 2, 2, 0 }, plan.Tensors[0].ValueHuffman);
        byte[] record =
        [
            0x00, 0x01, 0x62, 0x01, 0x3C, 0x03, 0x00, 0x01,       // "b", [60], CODEBOOK, ALL, flag 1 (Huffman values)
            0x02, 0x03, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, // 2 bits, K 3: 1, 2, 3
            0x12, 0x20, 0x09,                                     // lengths 1 2 2 0, 9 code bytes
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A, 0xAB, 0xFC, // 50 × "0", 6 × "10", 4 × "11", 2 padding bits
        ];
        Assert.Equal(record.Length, plan.Tensors[0].PredictedBytes);
        string path = TempFile();
        try
        {
            ArtifactEncoder.Write(plan, path);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(record, bytes[16..]);
            using (var back = ArtifactReader.Read(path)) Assert.True(t.eq(back.Tensors["b"]).all().item<bool>());

            // The same record in version 2: no layout byte, one byte per code length.
            byte[] v2 = [.. bytes[..15], .. record[..22], 1, 2, 2, 0, .. record[24..]];
            v2[4] = 2;
            File.WriteAllBytes(path, v2);
            using (var back = ArtifactReader.Read(path)) Assert.True(t.eq(back.Tensors["b"]).all().item<bool>());
        }
        finally { File.Delete(path); }
    }
}
