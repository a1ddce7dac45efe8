using System.Globalization;
using System.Runtime.InteropServices;
using Distill.Models.Hf;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Distill.Models.OnnxGraph;

/// <summary>
/// Emits an ONNX graph with OnnxSharp's protobuf classes: HF-named inputs and outputs, the model's weights as
/// initializers under their state-dict keys (or, for the int8 export, as int8/uint8 codes behind
/// <c>DequantizeLinear</c>), and one method per module kind the families share (Linear, LayerNorm, Conv, activations,
/// multi-head attention). It records which weights were read so <c>Onnx.Export.OnnxExporter</c> can refuse a graph that
/// left part of the model out.
/// </summary>
public sealed class OnnxGraphBuilder
{
    private readonly IReadOnlyDictionary<string, Tensor> _weights;
    private readonly OnnxQuantization _quant;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly HashSet<string> _usedActivations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _emitted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private int _next;

    /// <param name="weights">The model's state dict as CPU float32 tensors, by key.</param>
    /// <param name="quant">Integer weights and activation grids (or none).</param>
    internal OnnxGraphBuilder(IReadOnlyDictionary<string, Tensor> weights, OnnxQuantization quant, int opset)
    {
        _weights = weights;
        _quant = quant;
        Opset = opset;
    }

    /// <summary>The opset the graph is written for (operators whose signature changed are emitted accordingly).</summary>
    public int Opset { get; }

    public GraphProto Graph { get; } = new() { Name = "distill" };

    /// <summary>The state-dict keys some node read.</summary>
    public IReadOnlyCollection<string> UsedWeights => _used;

    /// <summary>The module paths whose input got a quantize/dequantize pair.</summary>
    public IReadOnlyCollection<string> UsedActivations => _usedActivations;

    // ------------------------------------------------------------------ weights

    public bool Has(string key) => _weights.ContainsKey(key);

    /// <summary>The weight tensor under <paramref name="key"/> (CPU float32), for shapes and folding.</summary>
    public Tensor Weight(string key) => _weights.TryGetValue(key, out var t)
        ? t
        : throw new OnnxExportException($"The model has no weight '{key}' (keys under its parent: {string.Join(", ", Siblings(key))}).");

    /// <summary>Marks <paramref name="key"/> as exported by a node that folded it into other values.</summary>
    public void MarkUsed(string key)
    {
        Weight(key);
        _used.Add(key);
    }

    /// <summary>The weight as an initializer of its own layout (embeddings, conv kernels, biases, norms).</summary>
    public string Initializer(string key) => Emit(key, transposed: false);

    /// <summary>A 2-D weight (out, in) as its transpose (in, out), the right operand of a MatMul.</summary>
    public string InitializerTransposed(string key) => Emit(key, transposed: true);

    private string Emit(string key, bool transposed)
    {
        string cacheKey = transposed ? key + "^T" : key;
        if (_emitted.TryGetValue(cacheKey, out var done)) return done;
        var w = Weight(key);
        _used.Add(key);
        long[] dims = w.shape;
        if (transposed && dims.Length != 2) throw new OnnxExportException($"'{key}' has shape [{string.Join(", ", dims)}]; a Linear weight is 2-D.");
        string name = transposed ? key + "_t" : key;
        if (_quant.For(key) is { } q)
        {
            _emitted[cacheKey] = Dequantized(key, name, q, dims, transposed);
            return _emitted[cacheKey];
        }
        var values = w.contiguous().data<float>().ToArray();
        if (transposed)
        {
            values = Transpose(values, (int)dims[0], (int)dims[1]);
            dims = [dims[1], dims[0]];
        }
        Graph.Initializer.Add(FloatTensor(name, values, dims));
        _emitted[cacheKey] = name;
        return name;
    }

    /// <summary>Codes as an int8 (symmetric) or uint8 initializer, per-channel scales along the weight's output channels.</summary>
    private string Dequantized(string key, string name, OnnxWeightQuant q, long[] dims, bool transposed)
    {
        long count = dims.Aggregate(1L, (a, d) => a * d);
        if (q.Codes.Length != count)
            throw new OnnxExportException($"Quantized weight '{key}': {q.Codes.Length} codes for a tensor of {count} elements [{string.Join(", ", dims)}].");
        int channels = q.Scales.Length;
        if (q.ZeroPoints.Length != channels || (channels != 1 && channels != dims[0]))
            throw new OnnxExportException($"Quantized weight '{key}': {channels} scales and {q.ZeroPoints.Length} zero points for {dims[0]} output channels.");
        var codes = q.Codes;
        long[] stored = dims;
        int axis = 0;
        if (transposed)
        {
            codes = Transpose(codes, (int)dims[0], (int)dims[1]);
            stored = [dims[1], dims[0]];
            axis = 1; // the output channels are now the columns
        }
        var type = q.Signed ? TensorProto.Types.DataType.Int8 : TensorProto.Types.DataType.Uint8;
        Graph.Initializer.Add(IntegerTensor(name + "_quantized", codes, type, stored));
        long[] scaleDims = channels == 1 ? [] : [channels];
        Graph.Initializer.Add(FloatTensor(name + "_scale", q.Scales, scaleDims));
        Graph.Initializer.Add(IntegerTensor(name + "_zero_point", q.ZeroPoints, type, scaleDims));
        var attrs = channels == 1 ? Array.Empty<AttributeProto>() : [Int("axis", axis)];
        return Op("DequantizeLinear", [name + "_quantized", name + "_scale", name + "_zero_point"], name, attrs);
    }

    /// <summary>
    /// Rows <paramref name="indices"/> (any shape, int64) of the 2-D table <paramref name="key"/>: (…, D). A table with
    /// per-row integer codes gathers the codes and its rows' scale and zero point, and dequantizes only the gathered
    /// rows, scale·(code − zero point): the whole table is never materialised in float.
    /// </summary>
    public string Gather(string key, string indices)
    {
        if (PerRowCodes(key) is not { } rows) return Op("Gather", [Initializer(key), indices]);
        return DequantizeRows(Op("Gather", [rows.Codes, indices]), Op("Gather", [rows.Scale, indices]), Op("Gather", [rows.ZeroPoint, indices]));
    }

    /// <summary>Rows 0..<paramref name="length"/>−1 of the 2-D table <paramref name="key"/> (length a 1-element int64 tensor): (length, D).</summary>
    public string SliceRows(string key, string length)
    {
        if (PerRowCodes(key) is not { } rows) return Op("Slice", [Initializer(key), Longs(0), length, Longs(0)]);
        string Rows(string t) => Op("Slice", [t, Longs(0), length, Longs(0)]);
        return DequantizeRows(Rows(rows.Codes), Rows(rows.Scale), Rows(rows.ZeroPoint));
    }

    /// <summary>(…, D) codes with (…) scales and zero points (in the codes' type) → scale·(code − zp) as float.</summary>
    private string DequantizeRows(string codes, string scale, string zeroPoint)
    {
        string axis = Longs(-1);
        var toFloat = Int("to", (long)TensorProto.Types.DataType.Float);
        string centred = Op("Sub", [Op("Cast", [codes], toFloat), Op("Unsqueeze", [Op("Cast", [zeroPoint], toFloat), axis])]);
        return Op("Mul", [centred, Op("Unsqueeze", [scale, axis])]);
    }

    /// <summary>
    /// The initializers of a table with one scale per row (codes (rows, D), float scales (rows), zero points (rows) in
    /// the codes' type: 5 bytes of overhead per row), or null when the table is float or has one scale for the whole tensor (then
    /// <see cref="Initializer"/> dequantizes it whole).
    /// </summary>
    private (string Codes, string Scale, string ZeroPoint)? PerRowCodes(string key)
    {
        if (_quant.For(key) is not { } q) return null;
        var w = Weight(key);
        long[] dims = w.shape;
        if (dims.Length != 2 || q.Scales.Length != dims[0] || q.Scales.Length == 1) return null;
        string cacheKey = key + "^rows";
        if (_emitted.TryGetValue(cacheKey, out var done)) return (done + "_quantized", done + "_scale", done + "_zero_point");
        if (q.Codes.Length != dims[0] * dims[1] || q.ZeroPoints.Length != q.Scales.Length)
            throw new OnnxExportException($"Quantized table '{key}': {q.Codes.Length} codes and {q.ZeroPoints.Length} zero points for [{dims[0]}, {dims[1]}].");
        _used.Add(key);
        var type = q.Signed ? TensorProto.Types.DataType.Int8 : TensorProto.Types.DataType.Uint8;
        Graph.Initializer.Add(IntegerTensor(key + "_quantized", q.Codes, type, dims));
        Graph.Initializer.Add(FloatTensor(key + "_scale", q.Scales, [dims[0]]));
        Graph.Initializer.Add(IntegerTensor(key + "_zero_point", q.ZeroPoints, type, [dims[0]]));
        _emitted[cacheKey] = key;
        return (key + "_quantized", key + "_scale", key + "_zero_point");
    }

    /// <summary>A float initializer computed at export (folded weights such as weight-normalised kernels).</summary>
    public string Folded(string name, Tensor value)
    {
        var v = value.detach().to(ScalarType.Float32).cpu().contiguous();
        Graph.Initializer.Add(FloatTensor(name, v.data<float>().ToArray(), v.shape));
        return name;
    }

    // ------------------------------------------------------------------ constants

    public string Floats(float[] values, params long[] dims)
    {
        string name = Fresh("const");
        Graph.Initializer.Add(FloatTensor(name, values, dims));
        return name;
    }

    /// <summary>A one-element float constant, shared by every node that uses the same value.</summary>
    public string Scalar(float value)
    {
        string key = "f:" + BitConverter.SingleToInt32Bits(value).ToString(CultureInfo.InvariantCulture);
        if (!_constants.TryGetValue(key, out var name)) _constants[key] = name = Floats([value]);
        return name;
    }

    /// <summary>A 1-D int64 constant, shared by every node that uses the same values.</summary>
    public string Longs(params long[] values)
    {
        string key = "l:" + string.Join(",", values);
        if (_constants.TryGetValue(key, out var cached)) return cached;
        string name = Fresh("const");
        _constants[key] = name;
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.Add(values.Length);
        Graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A 0-d int64 constant (a Gather index that drops the axis).</summary>
    public string LongScalar(long value)
    {
        string key = "s:" + value.ToString(CultureInfo.InvariantCulture);
        if (_constants.TryGetValue(key, out var cached)) return cached;
        string name = Fresh("const");
        _constants[key] = name;
        Graph.Initializer.Add(new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(BitConverter.GetBytes(value)) });
        return name;
    }

    // ------------------------------------------------------------------ graph interface

    /// <summary>A graph input; each dimension is a name (dynamic) or a length.</summary>
    public string Input(string name, TensorProto.Types.DataType type, params object[]? dims)
    {
        Graph.Input.Add(Value(name, type, dims));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> as the float output <paramref name="name"/>.</summary>
    public void Output(string value, string name, params object[] dims)
    {
        Op("Identity", [value], name);
        Graph.Output.Add(Value(name, TensorProto.Types.DataType.Float, dims));
    }

    /// <summary>One node with one output (a fresh name, or <paramref name="output"/>); returns the output's name.</summary>
    public string Op(string type, IEnumerable<string> inputs, string? output = null, params AttributeProto[] attributes)
    {
        string o = output ?? Fresh(type);
        var n = new NodeProto { OpType = type }; // unnamed: nodes are found by their outputs, and names would cost bytes per node
        n.Input.AddRange(inputs);
        n.Output.Add(o);
        n.Attribute.AddRange(attributes);
        Graph.Node.Add(n);
        return o;
    }

    public string Op(string type, IEnumerable<string> inputs, params AttributeProto[] attributes) => Op(type, inputs, null, attributes);

    // ------------------------------------------------------------------ modules

    /// <summary>The input of <paramref name="module"/>, through a quantize/dequantize pair when the export has a grid for it.</summary>
    public string ModuleInput(string x, string module)
    {
        if (!_quant.Activations.TryGetValue(module, out var a)) return x;
        _usedActivations.Add(module);
        string scale = Floats([a.Scale]);
        string zp = Fresh("const");
        Graph.Initializer.Add(IntegerTensor(zp, [a.ZeroPoint], TensorProto.Types.DataType.Uint8, []));
        string q = Op("QuantizeLinear", [x, scale, zp]);
        return Op("DequantizeLinear", [q, scale, zp]);
    }

    /// <summary>nn.Linear: x·Wᵀ (+ b) on the last axis.</summary>
    public string Linear(string x, string module)
    {
        x = ModuleInput(x, module);
        string y = Op("MatMul", [x, InitializerTransposed(module + ".weight")]);
        return Has(module + ".bias") ? Op("Add", [y, Initializer(module + ".bias")]) : y;
    }

    /// <summary>nn.LayerNorm over the last axis.</summary>
    public string LayerNorm(string x, string module, double eps) =>
        Op("LayerNormalization", [x, Initializer(module + ".weight"), Initializer(module + ".bias")], Int("axis", -1), Float("epsilon", (float)eps));

    /// <summary>nn.Conv1d/Conv2d with the module's weight (or <paramref name="weight"/>, a folded one) and optional bias.</summary>
    public string Conv(string x, string module, long[] strides, long[] pads, long group = 1, string? weight = null)
    {
        x = ModuleInput(x, module);
        var inputs = new List<string> { x, weight ?? Initializer(module + ".weight") };
        if (Has(module + ".bias")) inputs.Add(Initializer(module + ".bias"));
        return Op("Conv", inputs, Ints("strides", strides), Ints("pads", pads), Int("group", group));
    }

    /// <summary>An HF activation by its config name, in the form the model computes (<see cref="HfActivation"/>).</summary>
    public string Activation(string x, string name)
    {
        switch (name)
        {
            case "gelu": // x·Φ(x) = 0.5·x·(1 + erf(x/√2)), the exact form
                return Op("Mul", [Op("Mul", [x, Scalar(0.5f)]), Op("Add", [Op("Erf", [Op("Div", [x, Scalar(MathF.Sqrt(2f))])]), Scalar(1f)])]);
            case "gelu_new":
            case "gelu_pytorch_tanh": // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
                string cube = Op("Mul", [Op("Mul", [x, x]), x]);
                string inner = Op("Mul", [Op("Add", [x, Op("Mul", [cube, Scalar(0.044715f)])]), Scalar((float)Math.Sqrt(2.0 / Math.PI))]);
                return Op("Mul", [Op("Mul", [x, Scalar(0.5f)]), Op("Add", [Op("Tanh", [inner]), Scalar(1f)])]);
            case "relu":
                return Op("Relu", [x]);
            case "silu":
            case "swish":
                return Op("Mul", [x, Op("Sigmoid", [x])]);
            default:
                throw new OnnxExportException($"Activation '{name}' has no ONNX form here; supported: {string.Join(", ", HfActivation.Names)}.");
        }
    }

    /// <summary>
    /// Multi-head self-attention over x (B, T, D): per-head softmax(Q·Kᵀ·s + mask)·V, heads concatenated to
    /// (B, T, heads·head_dim). <paramref name="scaleQuery"/> applies s = head_dim^−½ to the projected queries (Bart-style,
    /// wav2vec2); otherwise the scores are divided by √head_dim (BERT, ViT). <paramref name="additiveMask"/> is
    /// (B, 1, 1, T) or null.
    /// </summary>
    public string SelfAttention(string x, string query, string key, string value, int heads, int headDim, string? additiveMask, bool scaleQuery)
    {
        string shape = Longs(0, 0, heads, headDim);
        string q = Linear(x, query);
        if (scaleQuery) q = Op("Mul", [q, Scalar(MathF.Pow(headDim, -0.5f))]);
        q = Op("Transpose", [Op("Reshape", [q, shape])], Ints("perm", 0, 2, 1, 3));             // (B, H, T, hd)
        string k = Op("Transpose", [Op("Reshape", [Linear(x, key), shape])], Ints("perm", 0, 2, 3, 1)); // (B, H, hd, T)
        string v = Op("Transpose", [Op("Reshape", [Linear(x, value), shape])], Ints("perm", 0, 2, 1, 3)); // (B, H, T, hd)
        string scores = Op("MatMul", [q, k]);                                                    // (B, H, T, T)
        if (!scaleQuery) scores = Op("Div", [scores, Scalar(MathF.Sqrt(headDim))]);
        if (additiveMask is not null) scores = Op("Add", [scores, additiveMask]);
        string probs = Op("Softmax", [scores], Int("axis", -1));
        string context = Op("Transpose", [Op("MatMul", [probs, v])], Ints("perm", 0, 2, 1, 3)); // (B, T, H, hd)
        return Op("Reshape", [context, Longs(0, 0, (long)heads * headDim)]);                     // (B, T, H·hd)
    }

    /// <summary>ReduceMean over <paramref name="axes"/> (an attribute up to opset 17, an input from 18).</summary>
    public string ReduceMean(string x, long[] axes, bool keepDims)
    {
        var keep = Int("keepdims", keepDims ? 1 : 0);
        return Opset >= 18 ? Op("ReduceMean", [x, Longs(axes)], keep) : Op("ReduceMean", [x], Ints("axes", axes), keep);
    }

    /// <summary>ReduceSum over <paramref name="axes"/> (an input since opset 13).</summary>
    public string ReduceSum(string x, long[] axes, bool keepDims) => Op("ReduceSum", [x, Longs(axes)], Int("keepdims", keepDims ? 1 : 0));

    /// <summary>(B, T) 0/1 → (B, 1, 1, T) additive mask: 0 where kept, float32's lowest finite value where masked, as HF.</summary>
    public string AdditiveKeyMask(string keep)
    {
        string m = Op("Cast", [keep], Int("to", (long)TensorProto.Types.DataType.Float));
        string additive = Op("Mul", [Op("Sub", [Scalar(1f), m]), Scalar(float.MinValue)]);
        return Op("Unsqueeze", [additive, Longs(1, 2)]);
    }

    // ------------------------------------------------------------------ helpers

    private string Fresh(string hint) => $"{hint}_{_next++.ToString(CultureInfo.InvariantCulture)}";

    private IEnumerable<string> Siblings(string key)
    {
        int dot = key.LastIndexOf('.');
        string parent = dot < 0 ? "" : key[..(dot + 1)];
        return _weights.Keys.Where(k => k.StartsWith(parent, StringComparison.Ordinal)).Take(12);
    }

    private static T[] Transpose<T>(T[] values, int rows, int cols)
    {
        var t = new T[values.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = values[r * cols + c];
        return t;
    }

    private static TensorProto FloatTensor(string name, float[] values, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.AddRange(dims);
        return t;
    }

    private static TensorProto IntegerTensor(string name, int[] values, TensorProto.Types.DataType type, long[] dims)
    {
        var bytes = new byte[values.Length];
        bool signed = type == TensorProto.Types.DataType.Int8;
        for (int i = 0; i < values.Length; i++)
        {
            int v = values[i];
            if (signed ? v is < sbyte.MinValue or > sbyte.MaxValue : v is < 0 or > byte.MaxValue)
                throw new OnnxExportException($"'{name}': value {v} does not fit {(signed ? "int8" : "uint8")}.");
            bytes[i] = unchecked((byte)v);
        }
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }

    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, object[]? dims)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (dims is not null)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
                shape.Dim.Add(d switch
                {
                    string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                    int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                    long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                    _ => throw new ArgumentException($"dimension {d} is neither a name nor a length"),
                });
            tensor.Shape = shape;
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }

    public static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    public static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };

    public static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }
}
