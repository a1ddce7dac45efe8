using Distill.Hf;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Onnx;
using Distill.Tests.Checkpoints;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Onnx;

/// <summary>
/// The importer on small hand-built graphs (<see cref="TinyBertOnnx"/>, torch.onnx's layout): the intact graph imports
/// and computes what ONNX Runtime computes on it; each break — a MatMul without its bias Add, an unknown op, another
/// family, inconsistent constants — is refused with the node named and nothing written.
/// </summary>
public sealed class OnnxImportTests(ITestOutputHelper log) : IDisposable
{
    private const string Source = "/models/tiny.onnx";
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static OnnxImportException Refused(Action<GraphProto> breakIt, TinyBertOnnx? builder = null)
    {
        var model = (builder ?? new TinyBertOnnx()).Build();
        breakIt(model.Graph);
        return Assert.Throws<OnnxImportException>(() => OnnxBertReader.Read(model, Source));
    }

    private static NodeProto Adder(GraphProto g, string initializer) => g.Node.Single(n => n.OpType == "Add" && n.Input.Contains(initializer));

    private static NodeProto Producer(GraphProto g, string value) => g.Node.Single(n => n.Output.Contains(value));

    [Fact]
    public void TheIntactGraphReadsAsBertWithWeightsTransposed()
    {
        var builder = new TinyBertOnnx();
        using var read = OnnxBertReader.Read(builder.Build(), Source);
        var c = read.Config;
        Assert.Equal((2, 8, 2, 16, 24, 16, 2, "gelu", 1e-12), (c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.IntermediateSize, c.VocabSize, c.MaxPositionEmbeddings, c.TypeVocabSize, c.HiddenAct, c.LayerNormEps));
        Assert.True(read.HasPooler);
        // The MatMul operand (in=8, out=16) becomes torch's (out, in) under the bias's module name.
        var (_, values) = builder.MatMulWeights["encoder.layer.1.intermediate.dense"];
        var w = read.Tensors["encoder.layer.1.intermediate.dense.weight"];
        Assert.Equal([16L, 8L], w.shape);
        Assert.Equal(values[3 * 16 + 5], w[5, 3].item<float>()); // operand[in=3, out=5] = weight[out=5, in=3]
        Assert.DoesNotContain("embeddings.position_ids", read.Tensors.Keys);
        foreach (var line in read.Provenance) log.WriteLine(line);
        Assert.Contains(read.Provenance, l => l.StartsWith("num_attention_heads 2: the Reshape after every query/key/value projection, e.g. node 'Reshape_", StringComparison.Ordinal));
    }

    [Fact]
    public void TheImportedTinyFolderComputesWhatOnnxRuntimeComputesOnTheGraph()
    {
        using var scope = NewDisposeScope();
        var model = new TinyBertOnnx().Build();
        string onnx = TinyBertOnnx.Write(model, _tmp.File("tiny.onnx"));
        var result = OnnxBertImporter.Import(onnx, _tmp.File("tiny-hf"));
        Assert.Equal(["config.json", "model.safetensors"], result.Files);

        long[] ids = [2, 5, 7, 9, 3, 2, 11, 4, 0, 0], mask = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0], types = [0, 0, 0, 1, 1, 0, 0, 0, 0, 0];
        long[] shape = [2, 5];
        using var session = new InferenceSession(onnx);
        using var a = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var b = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var t = OrtValue.CreateTensorValueFromMemory(types, shape);
        using var run = new RunOptions();
        string poolerName = model.Graph.Output[1].Name;
        using var outputs = session.Run(run, new Dictionary<string, OrtValue> { ["input_ids"] = a, ["attention_mask"] = b, ["token_type_ids"] = t }, ["last_hidden_state", poolerName]);
        float[] hidden = outputs[0].GetTensorDataAsSpan<float>().ToArray(), pooled = outputs[1].GetTensorDataAsSpan<float>().ToArray();

        var loaded = HfFolder.LoadModel(result.OutDir, HfArchitectureRegistry.Default);
        using var bert = loaded.Model;
        Assert.True(loaded.Report.IsExact, loaded.Report.ToString());
        var ours = HfForward.Run(loaded, new Batch(new Dictionary<string, Tensor>
        {
            ["input_ids"] = tensor(ids, shape), ["attention_mask"] = tensor(mask, shape), ["token_type_ids"] = tensor(types, shape),
        }, null));
        var h = ours["last_hidden_state"].data<float>().ToArray();
        double maxHidden = 0;
        for (int p = 0; p < 10; p++)
            if (mask[p] == 1)
                for (int k = 0; k < 8; k++) maxHidden = Math.Max(maxHidden, Math.Abs(hidden[p * 8 + k] - h[p * 8 + k]));
        double maxPooled = pooled.Zip(ours["pooler_output"].data<float>().ToArray()).Max(z => (double)Math.Abs(z.First - z.Second));
        log.WriteLine($"tiny graph: max |ORT − Distill| last_hidden_state {maxHidden:E2}, pooler {maxPooled:E2}");
        Assert.True(maxHidden < 1e-5 && maxPooled < 1e-5, $"{maxHidden} {maxPooled}");
    }

    [Fact]
    public void AMatMulWeightWithoutABiasNamedAddIsRefusedNamingTheNode()
    {
        // The bias under a numeric name: the weight's HF name is nowhere in the graph.
        string matmul = "";
        var e = Refused(g =>
        {
            var add = Adder(g, "encoder.layer.0.attention.output.dense.bias");
            matmul = Producer(g, add.Input[1]).Name;
            g.Initializer.Single(i => i.Name == "encoder.layer.0.attention.output.dense.bias").Name = "9931";
            add.Input[0] = "9931";
        });
        Assert.StartsWith(Source + ": ", e.Message);
        Assert.Contains($"node '{matmul}' (MatMul)", e.Message);
        Assert.Contains("is not followed by an Add of a bias initializer named '<module>.bias'", e.Message);
        Assert.Contains("adding '9931'", e.Message);
    }

    [Fact]
    public void AMatMulFollowedByAnotherOpIsRefusedSayingWhatFollows()
    {
        string matmul = "";
        var e = Refused(g =>
        {
            // Drop the bias Add of layer 1's query: the MatMul feeds the Reshape directly (a Linear without bias).
            var add = Adder(g, "encoder.layer.1.attention.self.query.bias");
            string mm = add.Input[1];
            matmul = Producer(g, mm).Name;
            foreach (var n in g.Node)
                for (int i = 0; i < n.Input.Count; i++)
                    if (n.Input[i] == add.Output[0]) n.Input[i] = mm;
            g.Node.Remove(add);
        });
        Assert.Contains($"node '{matmul}' (MatMul)", e.Message);
        Assert.Contains("its output goes to node 'Shape_", e.Message);
    }

    [Fact]
    public void AnUnknownOpIsRefusedNamingTheNodeAndTheSupportedOps()
    {
        var e = Refused(g =>
        {
            var n = g.Node.First(n => n.OpType == "Softmax");
            n.OpType = "CumSum";
            n.Name = "CumSum_77";
        });
        Assert.Contains("node 'CumSum_77' (CumSum): op CumSum is not part of a torch.onnx BERT export", e.Message);
        Assert.Contains("Supported ops: Add, Cast", e.Message);

        var fused = Refused(g => g.Node.First(n => n.OpType == "Erf").Domain = "com.microsoft");
        Assert.Contains("is from op domain 'com.microsoft'", fused.Message);

        var ln = Refused(g => g.Node.First(n => n.OpType == "ReduceMean").OpType = "LayerNormalization");
        Assert.Contains("LayerNormalization appears from opset 17", ln.Message);
    }

    [Fact]
    public void AVitLikeGraphIsRefusedAsAVisionModel()
    {
        // A ViT export: pixel_values in, a Conv patch embedding with HF's ViT names.
        var g = new GraphProto { Name = "vit" };
        g.Input.Add(TinyBertOnnx.Value("pixel_values", TensorProto.Types.DataType.Float, "batch", "3", "32", "32"));
        g.Initializer.Add(TinyBertOnnx.FloatTensor("embeddings.patch_embeddings.projection.weight", new float[8 * 3 * 4 * 4], 8, 3, 4, 4));
        g.Initializer.Add(TinyBertOnnx.FloatTensor("embeddings.patch_embeddings.projection.bias", new float[8], 8));
        var conv = new NodeProto { Name = "/embeddings/patch_embeddings/projection/Conv", OpType = "Conv" };
        conv.Input.AddRange(["pixel_values", "embeddings.patch_embeddings.projection.weight", "embeddings.patch_embeddings.projection.bias"]);
        conv.Output.Add("last_hidden_state");
        g.Node.Add(conv);
        g.Output.Add(TinyBertOnnx.Value("last_hidden_state", TensorProto.Types.DataType.Float, "batch", "8", "8", "8"));
        var e = Assert.Throws<OnnxImportException>(() => OnnxBertReader.Read(new ModelProto { Graph = g }, Source));
        Assert.Contains("this is a vision model (input 'pixel_values': ViT-like), not a BERT text encoder", e.Message);

        var audio = Refused(g2 => g2.Input[0].Name = "input_values");
        Assert.Contains("this is an audio model (input 'input_values': wav2vec2-like)", audio.Message);

        var conv2 = Refused(g2 => g2.Node.First(n => n.OpType == "Erf").OpType = "Conv");
        Assert.Contains("(Conv): a convolution is not part of BERT", conv2.Message);
    }

    [Fact]
    public void AHeadModelIsRefused()
    {
        var e = Refused(g =>
        {
            foreach (var i in g.Initializer.Where(i => i.Name.StartsWith("embeddings.", StringComparison.Ordinal)).ToList())
            {
                string old = i.Name;
                i.Name = "bert." + old;
                foreach (var n in g.Node)
                    for (int k = 0; k < n.Input.Count; k++)
                        if (n.Input[k] == old) n.Input[k] = i.Name;
            }
        });
        Assert.Contains("'bert.embeddings.", e.Message);
        Assert.Contains("prefix of a head model", e.Message);

        // A graph whose outputs do not include the last layer's hidden state is not a bare encoder.
        var o = Refused(g => g.Output.RemoveAt(0));
        Assert.Contains("do not include the last encoder layer's output", o.Message);
    }

    [Fact]
    public void HeadCountsComeFromTheReshapeAndMustFitTheHiddenSize()
    {
        // Layer 1's key split into 4 heads of 4 = 16 ≠ hidden 8.
        var e = Refused(g =>
        {
            var reshape = g.Node.Single(n => n.OpType == "Reshape" && n.Input[0] == Adder(g, "encoder.layer.1.attention.self.key.bias").Output[0]);
            var concat = Producer(g, reshape.Input[1]);
            var heads = g.Initializer.Single(i => i.Name == concat.Input[2]);
            heads.RawData = TinyBertOnnx.LongTensor("", [4L], 1).RawData;
            var dim = g.Initializer.Single(i => i.Name == concat.Input[3]);
            dim.RawData = TinyBertOnnx.LongTensor("", [4L], 1).RawData;
        });
        Assert.Contains("splits encoder.layer.1.attention.self.key into 4 heads × 4 = 16 features, but hidden_size is 8", e.Message);
        Assert.Contains("node 'Reshape_", e.Message);

        // A shape computed at run time (here from the input's Shape alone) cannot give the head count.
        var dynamic = Refused(g =>
        {
            var reshape = g.Node.Single(n => n.OpType == "Reshape" && n.Input[0] == Adder(g, "encoder.layer.0.attention.self.query.bias").Output[0]);
            reshape.Input[1] = g.Node.First(n => n.OpType == "Shape").Output[0];
        });
        Assert.Contains("expected a Reshape of its output to (batch, sequence, heads, head_dim) with constant heads and head_dim", dynamic.Message);
        Assert.Contains("reshapes to a shape computed at run time", dynamic.Message);
    }

    [Fact]
    public void LayerNormEpsilonsMustAgreeAndBeFound()
    {
        var e = Refused(g =>
        {
            // Layer 1's output LayerNorm: eps 1e-5 instead of 1e-12.
            var mul = g.Node.Single(n => n.OpType == "Mul" && n.Input.Contains("encoder.layer.1.output.LayerNorm.weight"));
            var sqrt = Producer(g, Producer(g, mul.Input[0]).Input[1]);
            var add = Producer(g, sqrt.Input[0]);
            var constant = Producer(g, add.Input[1]);
            constant.Attribute[0].T = TinyBertOnnx.FloatTensor("", [1e-5f]);
        });
        Assert.Contains("adds eps 1E-05 in 'encoder.layer.1.output.LayerNorm', but node 'Add_", e.Message);
        Assert.Contains("in 'embeddings.LayerNorm' adds 1E-12; BERT's config has one layer_norm_eps", e.Message);

        var eps = new TinyBertOnnx { Eps = 1e-5f };
        using var read = OnnxBertReader.Read(eps.Build(), Source);
        Assert.Equal(1e-5, read.Config.LayerNormEps); // the float32 constant's shortest decimal, not 9.99999974737875E-06
    }

    [Fact]
    public void PositionsMustBeTheAbsoluteZeroBasedOnes()
    {
        // RoBERTa-style: positions offset by padding_idx + 1 = 2.
        var e = Refused(g =>
        {
            var ids = g.Initializer.Single(i => i.Name == "embeddings.position_ids");
            ids.RawData = TinyBertOnnx.LongTensor("", Enumerable.Range(2, 16).Select(i => (long)i).ToArray(), 1, 16).RawData;
        });
        Assert.Contains("expected 'embeddings.position_embeddings.weight' gathered at positions 0 … T−1", e.Message);
        Assert.Contains("of a tensor that is not 0 … P−1", e.Message);
        Assert.Contains("node 'Slice_", e.Message);
    }

    [Fact]
    public void AnActivationOtherThanErfGeluOrReluIsRefused()
    {
        var e = Refused(g => g.Node.First(n => n.OpType == "Erf").OpType = "Tanh");
        Assert.Contains("adds encoder.layer.0.intermediate.dense.bias; expected the activation after it: gelu (x / √2 → Erf, HF's 'gelu') or Relu", e.Message);
    }

    [Fact]
    public void NonFloat32OrExternalWeightsAreRefused()
    {
        var half = Refused(g => g.Initializer.Single(i => i.Name == "embeddings.LayerNorm.bias").DataType = (int)TensorProto.Types.DataType.Float16);
        Assert.Contains("initializer 'embeddings.LayerNorm.bias' has ONNX data type Float16; only float32 exports can be imported", half.Message);
        var external = Refused(g => g.Initializer.Single(i => i.Name == "embeddings.word_embeddings.weight").DataLocation = TensorProto.Types.DataLocation.External);
        Assert.Contains("initializer 'embeddings.word_embeddings.weight' keeps its data in an external file", external.Message);
        var damaged = Refused(g => g.Initializer.Single(i => i.Name == "embeddings.LayerNorm.weight").Dims[0] = 9);
        Assert.Contains("'embeddings.LayerNorm.weight' [9] holds 32 bytes of data, not 36; the file is damaged", damaged.Message);
    }

    [Fact]
    public void ABigInitializerThatIsNoParameterIsRefused()
    {
        var e = Refused(g =>
        {
            g.Initializer.Add(TinyBertOnnx.FloatTensor("onnx::Mul_999", new float[128], 128));
            g.Node.First(n => n.OpType == "Mul").Input[1] = "onnx::Mul_999";
        });
        Assert.Contains("initializer 'onnx::Mul_999' [128] (used by node 'Mul_", e.Message);
        Assert.Contains("is not a BERT parameter", e.Message);
    }

    [Fact]
    public void TheVocabularyMustFitTheGraphAndIsWrittenWithLfLineEnds()
    {
        string onnx = TinyBertOnnx.Write(new TinyBertOnnx().Build(), _tmp.File("tiny.onnx"));
        string[] tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. Enumerable.Range(0, 19).Select(i => $"tok{i}")];
        string crlf = _tmp.File("vocab-crlf.txt");
        File.WriteAllText(crlf, string.Join("\r\n", tokens) + "\r\n");
        var result = OnnxBertImporter.Import(onnx, _tmp.File("with-vocab"), crlf);
        Assert.Equal(["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"], result.Files);
        Assert.Equal(string.Join("\n", tokens) + "\n", File.ReadAllText(Path.Combine(result.OutDir, "vocab.txt")));
        Assert.True(Distill.Text.BertTextTokenizer.FromFolder(result.OutDir).DoLowerCase);
        Assert.Equal(0, BertConfig.Load(result.OutDir).PadTokenId);

        // Capitals: a cased vocabulary, so the tokenizer must not lower-case.
        string cased = _tmp.File("vocab-cased.txt");
        File.WriteAllLines(cased, [.. tokens[..^1], "The"]);
        var casedResult = OnnxBertImporter.Import(onnx, _tmp.File("cased"), cased);
        Assert.False(Distill.Text.BertTextTokenizer.FromFolder(casedResult.OutDir).DoLowerCase);
        Assert.Contains(casedResult.Provenance, l => l.StartsWith("do_lower_case false", StringComparison.Ordinal) && l.Contains("The", StringComparison.Ordinal));

        string shortVocab = _tmp.File("vocab-short.txt");
        File.WriteAllLines(shortVocab, tokens[..20]);
        var e = Assert.Throws<OnnxImportException>(() => OnnxBertImporter.Import(onnx, _tmp.File("short"), shortVocab));
        Assert.Contains($"{shortVocab}: has 20 tokens, but the graph's embeddings.word_embeddings.weight has 24 rows", e.Message);
        Assert.False(Directory.Exists(_tmp.File("short")));
    }
}
