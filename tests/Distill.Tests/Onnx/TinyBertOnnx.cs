using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Distill.Tests.Onnx;

/// <summary>
/// Builds, with the ONNX protobuf classes, a small BERT graph laid out as torch.onnx (opset 13, pytorch 1.10) exports
/// HF's BertModel — the node sequence read off the packaged all-MiniLM-L6-v2 graph: MatMul weights under numeric names
/// followed by Add(bias), transpose_for_scores as Reshape(Concat(batch, seq, heads, head_dim)), LayerNorm decomposed,
/// gelu via Erf, mask as (1 − m)·−10000, pooler as Gemm → Tanh. Tests break it in one place to check each error path.
/// Weights are seeded random numbers.
/// </summary>
internal sealed class TinyBertOnnx
{
    public int Layers { get; init; } = 2;
    public int Hidden { get; init; } = 8;
    public int Heads { get; init; } = 2;
    public int Ffn { get; init; } = 16;
    public int Vocab { get; init; } = 24;
    public int Positions { get; init; } = 16;
    public bool Pooler { get; init; } = true;
    public float Eps { get; init; } = 1e-12f;

    private readonly Random _rng = new(7);
    private GraphProto _g = new();
    private int _next = 100;

    /// <summary>The values of each numeric-named MatMul weight, by the HF module it belongs to (stored (in, out)).</summary>
    public Dictionary<string, (string Initializer, float[] Values)> MatMulWeights { get; } = new(StringComparer.Ordinal);

    public ModelProto Build()
    {
        _g = new GraphProto { Name = "torch-jit-export" };
        foreach (var name in new[] { "input_ids", "attention_mask", "token_type_ids" }) _g.Input.Add(Value(name, TensorProto.Types.DataType.Int64, "batch", "sequence"));

        // Additive mask (B, 1, 1, T): (1 − m) · −10000.
        var m = Op("Unsqueeze", ["attention_mask", Longs([1], 1)]);
        m = Op("Unsqueeze", [m, Longs([2], 1)]);
        m = Op("Cast", [m], Int("to", (long)TensorProto.Types.DataType.Float));
        m = Op("Sub", [Scalar(1f), m]);
        string mask = Op("Mul", [m, Scalar(-10000f)]);

        // Embeddings: word + token type, + positions sliced from the position_ids buffer, LayerNorm.
        string seq = Op("Unsqueeze", [Op("Gather", [Op("Shape", ["input_ids"]), LongScalar(1)], Int("axis", 0)), Longs([0], 1)]);
        _g.Initializer.Add(LongTensor("embeddings.position_ids", Enumerable.Range(0, Positions).Select(i => (long)i).ToArray(), 1, Positions));
        string positions = Op("Slice", ["embeddings.position_ids", Longs([0], 1), seq, Longs([1], 1), Longs([1], 1)]);
        string x = Op("Add", [Op("Gather", [Param("embeddings.word_embeddings.weight", Vocab, Hidden), "input_ids"]),
                              Op("Gather", [Param("embeddings.token_type_embeddings.weight", 2, Hidden), "token_type_ids"])]);
        x = Op("Add", [x, Op("Gather", [Param("embeddings.position_embeddings.weight", Positions, Hidden), positions])]);
        x = LayerNorm(x, "embeddings.LayerNorm");

        int headDim = Hidden / Heads;
        for (int l = 0; l < Layers; l++)
        {
            string p = $"encoder.layer.{l}.";
            string q = Op("Transpose", [SplitHeads(Linear(x, p + "attention.self.query", Hidden, Hidden))], Ints("perm", 0, 2, 1, 3));
            string k = Op("Transpose", [SplitHeads(Linear(x, p + "attention.self.key", Hidden, Hidden))], Ints("perm", 0, 2, 3, 1));
            string v = Op("Transpose", [SplitHeads(Linear(x, p + "attention.self.value", Hidden, Hidden))], Ints("perm", 0, 2, 1, 3));
            string scores = Op("Add", [Op("Div", [Op("MatMul", [q, k]), Scalar(MathF.Sqrt(headDim))]), mask]);
            string probs = Op("Softmax", [scores], Int("axis", -1));
            string ctx = Op("Transpose", [Op("MatMul", [probs, v])], Ints("perm", 0, 2, 1, 3));
            ctx = Op("Reshape", [ctx, Op("Concat", [Dim(ctx, 0), Dim(ctx, 1), Longs([Hidden], 1, named: true)], Int("axis", 0))]);
            string attn = LayerNorm(Op("Add", [Linear(ctx, p + "attention.output.dense", Hidden, Hidden), x]), p + "attention.output.LayerNorm");
            string inter = Linear(attn, p + "intermediate.dense", Hidden, Ffn);
            string gelu = Op("Mul", [Op("Mul", [inter, Op("Add", [Op("Erf", [Op("Div", [inter, Scalar(1.4142135f)])]), Scalar(1f)])]), Scalar(0.5f)]);
            x = LayerNorm(Op("Add", [Linear(gelu, p + "output.dense", Ffn, Hidden), attn]), p + "output.LayerNorm", last: l == Layers - 1);
        }
        _g.Output.Add(Value("last_hidden_state", TensorProto.Types.DataType.Float, "batch", "sequence", Hidden.ToString()));
        if (Pooler)
        {
            string cls = Op("Gather", ["last_hidden_state", LongScalar(0)], Int("axis", 1));
            string dense = Op("Gemm", [cls, Param("pooler.dense.weight", Hidden, Hidden), Param("pooler.dense.bias", Hidden)],
                Float("alpha", 1f), Float("beta", 1f), Int("transB", 1));
            string pooled = Op("Tanh", [dense]);
            _g.Output.Add(Value(pooled, TensorProto.Types.DataType.Float, "batch", Hidden.ToString()));
        }
        var model = new ModelProto { IrVersion = 7, ProducerName = "pytorch", ProducerVersion = "1.10", Graph = _g };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    /// <summary>Writes <paramref name="model"/> as an .onnx file.</summary>
    public static string Write(ModelProto model, string path)
    {
        using var f = File.Create(path);
        model.WriteTo(f);
        return path;
    }

    // ------------------------------------------------------------------ pieces

    private string Linear(string x, string module, int inF, int outF)
    {
        string w = (_next++).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var values = Random(inF * outF);
        _g.Initializer.Add(FloatTensor(w, values, inF, outF));
        MatMulWeights[module] = (w, values);
        return Op("Add", [Param(module + ".bias", outF), Op("MatMul", [x, w])]);
    }

    private string LayerNorm(string x, string module, bool last = false)
    {
        string mean = Op("ReduceMean", [x], Ints("axes", -1));
        string centred = Op("Sub", [x, mean]);
        string variance = Op("ReduceMean", [Op("Pow", [centred, Scalar(2f)])], Ints("axes", -1));
        string normed = Op("Div", [centred, Op("Sqrt", [Op("Add", [variance, Scalar(Eps)])])]);
        return Op("Add", [Op("Mul", [normed, Param(module + ".weight", Hidden)]), Param(module + ".bias", Hidden)], output: last ? "last_hidden_state" : null);
    }

    /// <summary>(B, T, D) → (B, T, heads, head_dim) with the shape built as torch 1.10 builds it.</summary>
    private string SplitHeads(string x) =>
        Op("Reshape", [x, Op("Concat", [Dim(x, 0), Dim(x, 1), Longs([Heads], 1, named: true), Longs([Hidden / Heads], 1, named: true)], Int("axis", 0))]);

    private string Dim(string x, long i) =>
        Op("Unsqueeze", [Op("Gather", [Op("Shape", [x]), LongScalar(i)], Int("axis", 0)), Longs([0], 1)]);

    private string Op(string op, string[] inputs, params AttributeProto[] attributes) => Op(op, inputs, null, attributes);

    private string Op(string op, string[] inputs, string? output, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = $"{op}_{_g.Node.Count}" };
        n.Input.AddRange(inputs);
        string o = output ?? (_next++).ToString(System.Globalization.CultureInfo.InvariantCulture);
        n.Output.Add(o);
        n.Attribute.AddRange(attributes);
        _g.Node.Add(n);
        return o;
    }

    private string Param(string name, params long[] dims)
    {
        long count = dims.Aggregate(1L, (a, d) => a * d);
        var values = name.EndsWith("LayerNorm.weight", StringComparison.Ordinal) ? Random((int)count).Select(v => 1 + v).ToArray() : Random((int)count);
        _g.Initializer.Add(FloatTensor(name, values, dims));
        return name;
    }

    private float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(_rng.NextDouble() - 0.5)).ToArray();

    private string Scalar(float v) =>
        Op("Constant", [], new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = FloatTensor("", [v]) });

    private string LongScalar(long v) =>
        Op("Constant", [], new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = LongTensor("", [v]) });

    /// <summary>A 1-D int64 constant: a Constant node, or (as torch 1.10 does for Reshape dims) an initializer.</summary>
    private string Longs(long[] v, long length, bool named = false)
    {
        if (!named)
            return Op("Constant", [], new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = LongTensor("", v, length) });
        string name = (_next++).ToString(System.Globalization.CultureInfo.InvariantCulture);
        _g.Initializer.Add(LongTensor(name, v, length));
        return name;
    }

    public static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.AddRange(dims);
        return t;
    }

    public static TensorProto LongTensor(string name, long[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.AddRange(dims);
        return t;
    }

    private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    private static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };

    private static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    public static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params string[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(long.TryParse(d, out long n) ? new TensorShapeProto.Types.Dimension { DimValue = n } : new TensorShapeProto.Types.Dimension { DimParam = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}
