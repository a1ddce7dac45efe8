using Distill.Compression.Artifact;
using Distill.Compression.Quantization;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.OnnxGraph;
using Distill.Onnx.Export;
using Distill.Onnx.Runtime;
using Distill.Stages;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Onnx;

/// <summary>
/// Embedding tables in the int8 export, as a quantize stage leaves them (Linear weights and inputs on 8-bit grids, the
/// lookup tables float): stored as per-row uint8 codes, gathered and then dequantized in ONNX Runtime. The file of a
/// BERT whose word table is most of its weights is then at most 1/3.5 of the fp32 one; ORT's argmax agrees with the
/// fake-quant model on ≥ 99 % of inputs; with float weights elsewhere, ORT computes exactly the model whose tables
/// hold the dequantized rows (so the graph's gather-then-dequantize is the per-row grid, checked by the runtime).
/// </summary>
public sealed class OnnxInt8EmbeddingTests(ITestOutputHelper log)
{
    private static readonly string[] Tables =
        ["bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight", "bert.embeddings.token_type_embeddings.weight"];

    /// <summary>
    /// A BERT shaped like the bert-sst2 student (64 wide): a word table of 5,000 × 64 holds most of the weights. It is
    /// trained for a few steps on <see cref="Task"/>, because argmax agreement only means something for a model with
    /// margins: an untrained one puts every input near a tie, where any rounding anywhere flips the argmax.
    /// </summary>
    private static DistillModel WordTableHeavyBert()
    {
        var trained = TrainedWeights.Value;
        var model = Untrained();
        using (no_grad())
            foreach (var (name, t) in model.state_dict()) t.copy_(trained[name]);
        model.eval();
        return model;
    }

    /// <summary>The trained weights, computed once for the class (each test gets its own copy of the model).</summary>
    private static readonly Lazy<Dictionary<string, Tensor>> TrainedWeights = new(() =>
    {
        using var grad = enable_grad();
        using var model = Untrained();
        using var optimizer = torch.optim.AdamW(model.parameters(), lr: 3e-3);
        model.train();
        for (int step = 0; step < 80; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            model.call(Task(32, seed: step)).Loss!.backward();
            optimizer.step();
        }
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal);
    });

    private static DistillModel Untrained() => ParamInit.Build(ParamInit.Seeded(40), () => new BertForSequenceClassification(OnnxExportParityTests.TinyBert() with
    {
        VocabSize = 5000, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4, MaxPositionEmbeddings = 32, NumLabels = 3,
        HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0,
    }));

    /// <summary>
    /// Rows of 4..16 random tokens (right-padded, two segments) labelled by the third of the vocabulary most of their
    /// tokens fall in: a bag-of-words task the word table must learn.
    /// </summary>
    private static Batch Task(int rows, int seed)
    {
        var rng = new Random(seed);
        const int t = 16;
        var ids = new long[rows * t];
        var mask = new long[rows * t];
        var types = new long[rows * t];
        var labels = new long[rows];
        for (int i = 0; i < rows; i++)
        {
            int length = rng.Next(4, t + 1);
            var thirds = new int[3];
            for (int j = 0; j < length; j++)
            {
                int id = rng.Next(1, 5000);
                ids[i * t + j] = id;
                mask[i * t + j] = 1;
                types[i * t + j] = j >= length / 2 ? 1 : 0;
                thirds[Math.Min(2, id * 3 / 5000)]++;
            }
            labels[i] = Array.IndexOf(thirds, thirds.Max());
        }
        return new Batch(new Dictionary<string, Tensor>
        {
            ["input_ids"] = tensor(ids, [rows, t]), ["attention_mask"] = tensor(mask, [rows, t]), ["token_type_ids"] = tensor(types, [rows, t]),
        }, tensor(labels));
    }

    /// <summary>The stage's form: every Linear weight folded onto its symmetric per-channel 8-bit grid, 8-bit ranges of the Linear inputs.</summary>
    private static (QuantizationRecord Record, ActivationQuantizers Acts) QuantizeLinears(DistillModel model, Batch calibrate)
    {
        var grids = new Dictionary<string, LinearQuantParams>(StringComparer.Ordinal);
        var linears = new List<string>();
        using (no_grad())
            foreach (var (path, module) in model.named_modules())
            {
                if (module is not Linear l) continue;
                var grid = WeightQuantizer.Grid(l.weight, new QuantScheme(8, PerChannel: true, Symmetric: true));
                l.weight.copy_(WeightQuantizer.FakeQuantize(l.weight, grid));
                grids[path + ".weight"] = grid;
                linears.Add(path);
            }
        var acts = new ActivationQuantizers(linears.Select(m => (m, 8))) { Mode = ActivationQuantizers.ObserverMode.Calibrate };
        acts.Attach(model);
        model.eval();
        using (no_grad()) model.call(calibrate);
        acts.Mode = ActivationQuantizers.ObserverMode.Frozen;
        return (new QuantizationRecord(grids, acts.Ranges), acts);
    }

    /// <summary>Held-out batches of the task (seeds the training never drew).</summary>
    private static IEnumerable<Batch> TextBatches(DistillModel model, int count) => Enumerable.Range(0, count).Select(i => Task(8, seed: 10_000 + i));

    /// <summary>Argmax agreement of ORT with <paramref name="reference"/> and the largest |Δ logit|.</summary>
    private static (double Agreement, double MaxDiff) Compare(DistillModel reference, byte[] onnx, IEnumerable<Batch> batches)
    {
        using var ort = new OnnxRuntimeModel(onnx);
        long agree = 0, total = 0;
        double maxDiff = 0;
        reference.eval();
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            Tensor expected;
            using (no_grad()) expected = reference.call(batch).Logits;
            var actual = ort.Run(batch);
            maxDiff = Math.Max(maxDiff, (expected - actual).abs().max().item<float>());
            var e = expected.argmax(-1).data<long>().ToArray();
            var a = actual.argmax(-1).data<long>().ToArray();
            agree += e.Zip(a).Count(p => p.First == p.Second);
            total += e.Length;
        }
        return ((double)agree / total, maxDiff);
    }

    [Fact]
    public void Int8_bert_with_quantized_tables_is_under_a_3_5th_of_fp32_and_agrees_with_the_fake_quant_model()
    {
        var model = WordTableHeavyBert();
        long fp32 = OnnxExporter.ToBytes(model).LongLength;
        var (record, acts) = QuantizeLinears(model, TextBatches(model, 1).First());
        try
        {
            var withoutTables = OnnxExporter.ToBytes(model, new OnnxExportOptions { Quantization = OnnxInt8Export.From(record, model) });
            var quant = OnnxInt8Export.From(record, model, embeddingTables: BertTables(model));
            Assert.Equal(Tables.Order(), quant.Embeddings.Keys.Order());
            var int8 = OnnxExporter.ToBytes(model, new OnnxExportOptions { Quantization = quant });
            log.WriteLine($"fp32 {fp32} bytes; int8 with float tables {withoutTables.Length} (x{(double)fp32 / withoutTables.Length:F2}); int8 with 8-bit tables {int8.Length} (x{(double)fp32 / int8.Length:F2})");
            Assert.True(withoutTables.Length * 2 > fp32, "the float word table dominates the int8 file without table quantization (what this test is about)");
            Assert.True(int8.Length * 3.5 <= fp32, $"int8 {int8.Length} bytes vs fp32 {fp32}");

            // The tables are codes in the file: no float copy of them, and the word table is only ever gathered.
            var graph = global::Onnx.ModelProto.Parser.ParseFrom(int8).Graph;
            Assert.DoesNotContain(graph.Initializer, t => Tables.Contains(t.Name));
            var codes = graph.Initializer.Single(t => t.Name == Tables[0] + "_quantized");
            Assert.Equal((int)global::Onnx.TensorProto.Types.DataType.Uint8, codes.DataType);
            Assert.Equal([5000L, 64L], codes.Dims.ToArray());
            Assert.All(graph.Node.Where(n => n.Input.Contains(codes.Name)), n => Assert.Equal("Gather", n.OpType));

            var (plainAgreement, plainDiff) = Compare(model, withoutTables, TextBatches(model, 60));
            log.WriteLine($"w8a8, float tables vs the fake-quant model: argmax agreement {plainAgreement:P2}, max |Δ logit| {plainDiff:G3}");
            var (agreement, diff) = Compare(model, int8, TextBatches(model, 60));
            log.WriteLine($"w8a8 + 8-bit tables vs the fake-quant model: argmax agreement {agreement:P2}, max |Δ logit| {diff:G3}");
            Assert.True(agreement >= 0.99, $"argmax agreement {agreement:P2}");
        }
        finally
        {
            acts.Detach();
        }
    }

    [Fact]
    public void Gathered_rows_dequantize_to_the_per_row_grid_in_onnx_runtime()
    {
        var model = WordTableHeavyBert();
        var tables = OnnxInt8Export.EmbeddingCodes(model, Tables);
        var onnx = OnnxExporter.ToBytes(model, new OnnxExportOptions { Quantization = OnnxQuantization.None with { Embeddings = tables } });
        // Every code is within 0..255 and decodes to within half a row's scale of the float table.
        foreach (var (name, q) in tables)
        {
            var values = model.state_dict()[name].data<float>().ToArray();
            int width = values.Length / q.Scales.Length;
            Assert.All(q.Codes, c => Assert.InRange(c, 0, 255));
            for (int i = 0; i < values.Length; i++)
                Assert.True(Math.Abs(q.Scales[i / width] * (q.Codes[i] - q.ZeroPoints[i / width]) - values[i]) <= q.Scales[i / width] / 2 * 1.0001,
                    $"{name}[{i}]");
        }
        // The reference: the same model with its tables replaced by the dequantized rows, all else float.
        using (no_grad())
            foreach (var (name, q) in tables)
            {
                var t = model.state_dict()[name];
                int width = (int)t.shape[1];
                var decoded = q.Codes.Select((c, i) => q.Scales[i / width] * (float)(c - q.ZeroPoints[i / width])).ToArray();
                t.copy_(tensor(decoded, t.shape));
            }
        var (agreement, diff) = Compare(model, onnx, TextBatches(model, 20));
        log.WriteLine($"8-bit tables only vs the model with dequantized tables: agreement {agreement:P2}, max |Δ logit| {diff:G3}");
        Assert.True(diff <= 1e-4, $"max |Δ logit| {diff}");
        Assert.Equal(1.0, agreement);
    }

    [Fact]
    public void Export_report_names_the_quantized_tables_and_their_bytes()
    {
        var model = WordTableHeavyBert();
        var (record, acts) = QuantizeLinears(model, TextBatches(model, 1).First());
        string dir = Path.Combine(Path.GetTempPath(), "distill-int8-tables-" + Guid.NewGuid().ToString("N"));
        try
        {
            var result = OnnxModelExport.Export(model, record, Path.Combine(dir, "m.onnx"), eval: null, evalBatchSize: 8,
                new OnnxRunExportOptions { Precision = "int8" });
            var report = OnnxExportReport.Read(result.ReportPath!);
            Assert.Equal(Tables.Order(), report.QuantizedEmbeddings.Order());
            Assert.NotNull(report.EmbeddingQuantization);
            Assert.Equal(4L * (5000 + 32 + 2) * 64, report.EmbeddingQuantization!.Fp32Bytes);
            Assert.True(report.EmbeddingQuantization.Int8Bytes * 3.5 < report.EmbeddingQuantization.Fp32Bytes);
            Assert.True(report.EmbeddingQuantization.MaxAbsError > 0);
            Assert.True(report.FileBytes * 3.5 <= report.Fp32FileBytes, $"{report.FileBytes} vs {report.Fp32FileBytes}");
            Assert.Contains(report.Notes, n => n.Contains("per-row 8-bit codes", StringComparison.Ordinal));
            Assert.Contains("3 embedding tables", report.Table(), StringComparison.Ordinal);
        }
        finally
        {
            acts.Detach();
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static IReadOnlyList<string> BertTables(DistillModel model) => OnnxExportRegistry.Default.Get(model.Family).EmbeddingTables(model);
}
