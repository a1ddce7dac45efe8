using Distill.Hf;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Text;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Onnx;

/// <summary>
/// The imported folders compute what the original graphs compute: ONNX Runtime runs the packaged model.onnx, Distill
/// runs the imported HF folder, on real SST-2 dev sentences tokenized by Distill's tokenizer from the imported
/// vocabulary and padded to the longest. Compared at the non-padded positions only: at padded ones the graphs' mask
/// (−10000 in MiniLM's export) and Distill's (the dtype's minimum, HF's current rule) legitimately differ.
/// </summary>
public sealed class OnnxParityTests(ImportedModels models, ITestOutputHelper log) : IClassFixture<ImportedModels>
{
    private const int Sentences = 8;
    private const double Tolerance = 1e-5;

    /// <summary>The first dev sentences (their lengths differ, so the batch is padded).</summary>
    private static List<string> Sst2Dev(int count) =>
        File.ReadLines(Path.Combine(TestPaths.Data, "sst2", "dev.tsv")).Skip(1).Take(count).Select(l => l.Split('\t')[1]).ToList();

    private sealed record Tokens(long[] Ids, long[] Mask, long[] Types, int B, int T);

    private static Tokens Tokenize(string folder)
    {
        var tokenizer = BertTextTokenizer.FromFolder(folder);
        var enc = tokenizer.EncodeBatch(Sst2Dev(Sentences), padding: TextPadding.Longest);
        int b = enc.Count, t = enc[0].Length;
        return new Tokens(enc.SelectMany(e => e.InputIds.Select(x => (long)x)).ToArray(), enc.SelectMany(e => e.AttentionMask.Select(x => (long)x)).ToArray(),
            enc.SelectMany(e => e.TokenTypeIds.Select(x => (long)x)).ToArray(), b, t);
    }

    /// <summary>ONNX Runtime on the original graph: each requested output as (shape, values).</summary>
    private static Dictionary<string, (long[] Shape, float[] Values)> RunOrt(byte[] onnx, Tokens x, params string[] outputs)
    {
        using var session = new InferenceSession(onnx);
        long[] shape = [x.B, x.T];
        using var ids = OrtValue.CreateTensorValueFromMemory(x.Ids, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(x.Mask, shape);
        using var types = OrtValue.CreateTensorValueFromMemory(x.Types, shape);
        var inputs = new Dictionary<string, OrtValue> { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types };
        using var run = new RunOptions();
        using var results = session.Run(run, inputs, outputs);
        return outputs.Zip(results).ToDictionary(p => p.First, p => (p.Second.GetTensorTypeAndShape().Shape, p.Second.GetTensorDataAsSpan<float>().ToArray()));
    }

    private static Dictionary<string, Tensor> RunDistill(string folder, Tokens x, out HfLoadedModel loaded)
    {
        loaded = HfFolder.LoadModel(folder, HfArchitectureRegistry.Default);
        var batch = new Batch(new Dictionary<string, Tensor>
        {
            ["input_ids"] = tensor(x.Ids, [x.B, x.T]), ["attention_mask"] = tensor(x.Mask, [x.B, x.T]), ["token_type_ids"] = tensor(x.Types, [x.B, x.T]),
        }, null);
        return HfForward.Run(loaded, batch);
    }

    /// <summary>Max |a − b| over the non-padded positions of (B, T, D) tensors.</summary>
    private static double MaxDiffAtRealTokens(float[] reference, Tensor actual, Tokens x)
    {
        var a = actual.data<float>().ToArray();
        Assert.Equal(reference.Length, a.Length);
        int d = reference.Length / (x.B * x.T);
        double max = 0;
        for (int p = 0; p < x.B * x.T; p++)
        {
            if (x.Mask[p] == 0) continue;
            for (int k = 0; k < d; k++) max = Math.Max(max, Math.Abs(reference[p * d + k] - a[p * d + k]));
        }
        return max;
    }

    private static double MaxDiff(float[] reference, Tensor actual)
    {
        var a = actual.data<float>().ToArray();
        Assert.Equal(reference.Length, a.Length);
        return reference.Zip(a).Max(p => (double)Math.Abs(p.First - p.Second));
    }

    [PackagedModelFact(PackagedModels.MiniLm)]
    public void MiniLmLastHiddenStateAndPoolerMatchOnnxRuntime()
    {
        using var scope = NewDisposeScope();
        var m = models.Get(PackagedModels.MiniLm);
        var x = Tokenize(m.Folder);
        Assert.Contains(0L, x.Mask); // padding is exercised
        var ort = RunOrt(m.Onnx, x, "last_hidden_state", "924");
        var ours = RunDistill(m.Folder, x, out var loaded);
        loaded.Model.Dispose();
        Assert.True(loaded.Report.IsExact, loaded.Report.ToString());

        Assert.Equal(ort["last_hidden_state"].Shape, ours["last_hidden_state"].shape);
        double hidden = MaxDiffAtRealTokens(ort["last_hidden_state"].Values, ours["last_hidden_state"], x);
        double pooler = MaxDiff(ort["924"].Values, ours["pooler_output"]);
        log.WriteLine($"all-MiniLM-L6-v2, {x.B} SST-2 dev sentences padded to {x.T} ({x.Mask.Count(v => v == 1)} real tokens): " +
                      $"max |ORT − Distill| last_hidden_state (real tokens) {hidden:E2}, pooler_output {pooler:E2}");
        Assert.True(hidden < Tolerance, $"last_hidden_state differs from ONNX Runtime by {hidden:E3} at a real token");
        Assert.True(pooler < Tolerance, $"pooler_output differs from ONNX Runtime by {pooler:E3}");
    }

    [PackagedModelFact(PackagedModels.ArcticXs)]
    public void ArcticXsLastHiddenStateMatchesOnnxRuntimeAndItsMissingPoolerIsReported()
    {
        using var scope = NewDisposeScope();
        var m = models.Get(PackagedModels.ArcticXs);
        Assert.False(m.Result.HasPooler);
        var x = Tokenize(m.Folder);
        Assert.Contains(0L, x.Mask);
        var ort = RunOrt(m.Onnx, x, "last_hidden_state");
        var ours = RunDistill(m.Folder, x, out var loaded);
        loaded.Model.Dispose();
        // Loaded as from_pretrained loads it: the pooler is new, and said to be.
        var part = Assert.Single(loaded.Report.NewParts);
        Assert.Equal(["pooler.dense.bias", "pooler.dense.weight"], part.Keys);

        double hidden = MaxDiffAtRealTokens(ort["last_hidden_state"].Values, ours["last_hidden_state"], x);
        log.WriteLine($"arctic-embed-xs, {x.B} SST-2 dev sentences padded to {x.T}: max |ORT − Distill| last_hidden_state (real tokens) {hidden:E2}");
        Assert.True(hidden < Tolerance, $"last_hidden_state differs from ONNX Runtime by {hidden:E3} at a real token");
    }

    [PackagedModelFact(PackagedModels.ArcticXs)]
    public void ArcticXsIntoTheRecipeClassifierGetsANewReportedPoolerAndHeadAndTheRestExact()
    {
        using var scope = NewDisposeScope();
        var m = models.Get(PackagedModels.ArcticXs);
        using var model = new BertForSequenceClassification(BertConfig.Load(m.Folder));
        var report = HfPretrained.LoadInto(model, m.Folder);
        log.WriteLine(report.ToString());
        Assert.Equal(["bert.pooler.dense.bias", "bert.pooler.dense.weight"], Assert.Single(report.NewParts).Keys);
        Assert.Equal(["classifier.bias", "classifier.weight"], report.NewlyInitialised.Select(n => n.Key));
        Assert.Empty(report.Missing);
        Assert.Equal(model.state_dict().Count - 4, report.Loaded.Count);
    }

    [PackagedModelFact(PackagedModels.MiniLm)]
    public void TheImportedFolderIsAnHfBertModelFolderWithTheKnownShape()
    {
        var m = models.Get(PackagedModels.MiniLm);
        // all-MiniLM-L6-v2's published config: 6 layers, hidden 384, 12 heads, FFN 1536, gelu, eps 1e-12.
        var c = BertConfig.Load(m.Folder);
        Assert.Equal((6, 384, 12, 1536, 30522, 512, 2, "gelu", 1e-12, 0),
            (c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.IntermediateSize, c.VocabSize, c.MaxPositionEmbeddings, c.TypeVocabSize, c.HiddenAct, c.LayerNormEps, c.PadTokenId ?? -1));
        Assert.Equal(["BertModel"], HfFolder.ReadConfig(m.Folder).Architectures);
        Assert.True(m.Result.HasPooler);
        // vocab.txt: the shipped CRLF file with LF line ends = bert-base-uncased's vocabulary, byte for byte.
        Assert.Equal(File.ReadAllBytes(Path.Combine(TestPaths.Tokenizer, "vocab.txt")), File.ReadAllBytes(Path.Combine(m.Folder, "vocab.txt")));
        Assert.Contains((byte)'\r', File.ReadAllBytes(m.VocabPath));
        Assert.True(BertTextTokenizer.FromFolder(m.Folder).DoLowerCase);
        // Linear weights are torch's (out, in): the intermediate projection maps 384 → 1536.
        var weights = Distill.Checkpoints.SafeTensors.ReadHeader(Path.Combine(m.Folder, HfFolder.SafeTensorsFileName)).Tensors.ToDictionary(t => t.Name);
        Assert.Equal([1536L, 384L], weights["encoder.layer.0.intermediate.dense.weight"].Shape);
        Assert.DoesNotContain("embeddings.position_ids", weights.Keys);
    }
}
