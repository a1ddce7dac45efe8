using System.Globalization;
using System.Runtime.InteropServices;
using Onnx;

namespace Distill.Onnx;

/// <summary>
/// Look-ups over an ONNX graph for pattern matching: which node produces a value, which nodes consume it, initializers
/// and <c>Constant</c> node values by name, and small constant folding of shape arithmetic (enough to read the head
/// count out of HF's <c>transpose_for_scores</c> Reshape). Messages name nodes as the graph does.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<NodeProto, int> _index = new(ReferenceEqualityComparer.Instance);

    public OnnxGraph(GraphProto graph, string source)
    {
        Graph = graph;
        Source = source;
        foreach (var t in graph.Initializer) Initializers.TryAdd(t.Name, t);
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var n = graph.Node[i];
            _index[n] = i;
            foreach (var o in n.Output.Where(o => o.Length > 0)) _producers[o] = n;
            foreach (var input in n.Input.Where(x => x.Length > 0).Distinct(StringComparer.Ordinal))
            {
                if (!_consumers.TryGetValue(input, out var list)) _consumers[input] = list = [];
                list.Add(n);
            }
        }
    }

    public GraphProto Graph { get; }

    /// <summary>The file, for messages.</summary>
    public string Source { get; }

    public Dictionary<string, TensorProto> Initializers { get; } = new(StringComparer.Ordinal);

    public NodeProto? Producer(string value) => _producers.GetValueOrDefault(value);

    public IReadOnlyList<NodeProto> Consumers(string value) => _consumers.TryGetValue(value, out var l) ? l : [];

    /// <summary>"node 'MatMul_34' (MatMul)", or by position and output when the node has no name.</summary>
    public string Describe(NodeProto n) => n.Name.Length > 0
        ? $"node '{n.Name}' ({n.OpType})"
        : $"node #{_index.GetValueOrDefault(n)} ({n.OpType}, output '{n.Output.FirstOrDefault()}')";

    /// <summary>An error "file: what".</summary>
    public OnnxImportException Error(string what) => new($"{Source}: {what}");

    /// <summary>The tensor behind <paramref name="value"/> when it is an initializer or a Constant node's output.</summary>
    public TensorProto? ConstantTensor(string value)
    {
        if (Initializers.TryGetValue(value, out var t)) return t;
        if (Producer(value) is { OpType: "Constant" } c && c.Attribute.FirstOrDefault(a => a.Name == "value") is { } attr) return attr.T;
        return null;
    }

    /// <summary>A scalar (or one-element) float constant, or null.</summary>
    public float? ScalarFloat(string value)
    {
        if (ConstantTensor(value) is not { } t || t.DataType != (int)TensorProto.Types.DataType.Float) return null;
        if (t.Dims.Aggregate(1L, (a, d) => a * d) != 1) return null;
        if (t.FloatData.Count == 1) return t.FloatData[0];
        return t.RawData.Length == 4 ? MemoryMarshal.Read<float>(t.RawData.Span) : null;
    }

    /// <summary>
    /// The values of a 1-D integer tensor built from constants and run-time dimensions: each entry is its constant value
    /// or null where it depends on the input (Shape → Gather). Folds Constant, integer initializers, Unsqueeze, Concat,
    /// Cast, Identity and Gather(Shape(x), i). Null when the value is something else.
    /// </summary>
    public long?[]? TryInts(string value, int depth = 0)
    {
        if (depth > 16) return null;
        if (ConstantTensor(value) is { } t) return Longs(t)?.Select(v => (long?)v).ToArray();
        var n = Producer(value);
        switch (n?.OpType)
        {
            case "Unsqueeze":
            case "Cast":
            case "Identity":
                return TryInts(n.Input[0], depth + 1) is { Length: 1 } one ? one : null;
            case "Concat":
                var parts = n.Input.Select(i => TryInts(i, depth + 1)).ToList();
                return parts.Any(p => p is null) ? null : parts.SelectMany(p => p!).ToArray();
            case "Gather" when Producer(n.Input[0]) is { OpType: "Shape" }:
                return [null];
            default:
                return null;
        }
    }

    /// <summary>The integer values of a tensor (int64 or int32, raw or typed fields), or null for other types.</summary>
    public static long[]? Longs(TensorProto t)
    {
        switch ((TensorProto.Types.DataType)t.DataType)
        {
            case TensorProto.Types.DataType.Int64:
                return t.Int64Data.Count > 0 ? t.Int64Data.ToArray() : MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray();
            case TensorProto.Types.DataType.Int32:
                return t.Int32Data.Count > 0 ? t.Int32Data.Select(v => (long)v).ToArray() : MemoryMarshal.Cast<byte, int>(t.RawData.Span).ToArray().Select(v => (long)v).ToArray();
            default:
                return null;
        }
    }

    /// <summary>"[384, 1536]".</summary>
    public static string Dims(TensorProto t) => $"[{string.Join(", ", t.Dims.Select(d => d.ToString(CultureInfo.InvariantCulture)))}]";
}
