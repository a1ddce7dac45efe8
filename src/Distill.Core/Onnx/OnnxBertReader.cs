using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Distill.Models.Bert;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Onnx;

/// <summary>
/// Reads a BERT encoder exported by <c>torch.onnx</c> from a HuggingFace <c>BertModel</c> (opsets 11–13: LayerNorm
/// decomposed into ReduceMean/Sub/Pow/Sqrt/Div, gelu as Erf) back into HF's state dict and config.
/// <para>Weights. Initializers keep HF's parameter names, except each Linear weight inside the encoder, which torch
/// stores as the MatMul operand (in, out) under a numeric name (<c>927</c>, <c>onnx::MatMul_788</c>): its name is
/// taken from the bias that the Add right after the MatMul adds (<c>….query.bias</c> → <c>….query.weight</c>) and it
/// is transposed to torch's (out, in). The pooler's Linear is a Gemm with named initializers.</para>
/// <para>Config. Every value comes from the graph or is refused: sizes from the tensors, the head count from the
/// constant dimensions of the Reshape after each query/key/value projection (HF's <c>transpose_for_scores</c>),
/// <c>layer_norm_eps</c> from the constant added under each LayerNorm's Sqrt, <c>hidden_act</c> from the nodes after
/// each <c>intermediate.dense</c> (x / √2 → Erf = <c>gelu</c>, Relu = <c>relu</c>). Values an inference graph cannot
/// hold (dropouts, initializer_range) are HF's defaults and say so in <see cref="OnnxBertModel.Provenance"/>.</para>
/// <para>Refused, by name: vision (pixel_values, Conv) and audio (input_values) graphs, ops outside the BERT export
/// (e.g. RoBERTa's CumSum), custom op domains, head models (<c>bert.</c> prefix, logits), external or non-float32
/// weights, and any initializer that is neither a BERT parameter nor a small shape constant.</para>
/// </summary>
public static class OnnxBertReader
{
    /// <summary>The ops of a torch.onnx BERT export at opsets 11–13 (plus Relu for hidden_act relu, Identity, Squeeze).</summary>
    public static IReadOnlyList<string> SupportedOps { get; } =
    [
        "Add", "Cast", "Concat", "Constant", "Div", "Erf", "Gather", "Gemm", "Identity", "MatMul", "Mul", "Pow", "ReduceMean",
        "Relu", "Reshape", "Shape", "Slice", "Softmax", "Sqrt", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
    ];

    private static readonly string[] BertInputs = ["input_ids", "attention_mask", "token_type_ids"];

    // HF BertEmbeddings buffers (position ids 0..P-1, zero token types): index tables, not parameters.
    private static readonly string[] Buffers = ["embeddings.position_ids", "embeddings.token_type_ids"];

    // A shape or scalar constant stored as an initializer (opset-13 exports do this for Reshape dims, Slice bounds).
    private const long MaxConstantElements = 64;

    private static readonly Regex LayerKey = new(@"^encoder\.layer\.(\d+)\.", RegexOptions.CultureInvariant);

    /// <summary>Reads the graph; <paramref name="source"/> (the file) prefixes every message.</summary>
    /// <exception cref="OnnxImportException">The graph is not a supported BERT export (the message says where and why).</exception>
    public static OnnxBertModel Read(ModelProto model, string source)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Graph is null || model.Graph.Node.Count == 0) throw new OnnxImportException($"{source}: the model has no graph (or an empty one); give a model exported with torch.onnx.export.");
        var g = new OnnxGraph(model.Graph, source);
        RefuseOtherFamilies(g);
        CheckOps(g);
        CheckInputs(g);

        var notes = new List<string>();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            var used = MapParameters(g, tensors);
            CheckOtherInitializers(g, used, notes);
            var config = ReadConfig(g, tensors, notes, out bool pooler);
            CheckOutputs(g, config);
            CheckAgainstModel(g, config, pooler, tensors);
            return new OnnxBertModel(source, config, pooler, tensors, notes);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    // ------------------------------------------------------------------ what the graph is

    private static void RefuseOtherFamilies(OnnxGraph g)
    {
        var inputs = g.Graph.Input.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        bool patches = g.Initializers.Keys.Any(k => k.Contains("patch_embeddings", StringComparison.Ordinal));
        if (inputs.Contains("pixel_values") || patches)
            throw g.Error($"this is a vision model ({(inputs.Contains("pixel_values") ? "input 'pixel_values'" : "patch embeddings")}: ViT-like), not a BERT text encoder; " +
                          "only BERT-family encoders can be imported (a ViT HF folder loads directly with pretrained:).");
        if (inputs.Contains("input_values") || g.Initializers.Keys.Any(k => k.StartsWith("feature_extractor.", StringComparison.Ordinal)))
            throw g.Error("this is an audio model (input 'input_values': wav2vec2-like), not a BERT text encoder; only BERT-family encoders can be imported.");
        if (g.Initializers.Keys.FirstOrDefault(k => k.StartsWith("bert.", StringComparison.Ordinal)) is { } prefixed)
            throw g.Error($"initializer '{prefixed}' carries the 'bert.' prefix of a head model (BertFor...); only a bare BertModel export " +
                          "(output last_hidden_state) can be imported: export model.bert, or the model loaded with AutoModel.");
    }

    private static void CheckOps(OnnxGraph g)
    {
        foreach (var n in g.Graph.Node)
        {
            if (n.Domain is { Length: > 0 } d && d != "ai.onnx")
                throw g.Error($"{g.Describe(n)} is from op domain '{d}' (an optimised or custom graph); import the plain torch.onnx export, before any ONNX Runtime transformer optimisation.");
            if (n.OpType == "Conv")
                throw g.Error($"{g.Describe(n)}: a convolution is not part of BERT (a vision or audio model?); only BERT-family text encoders can be imported.");
            if (!SupportedOps.Contains(n.OpType))
                throw g.Error($"{g.Describe(n)}: op {n.OpType} is not part of a torch.onnx BERT export (opsets 11–13), so the graph is not a BertModel this importer can map " +
                              $"(RoBERTa-style position ids use CumSum; LayerNormalization appears from opset 17: export with opset_version 11–13). Supported ops: {string.Join(", ", SupportedOps)}.");
        }
    }

    private static void CheckInputs(OnnxGraph g)
    {
        var inputs = g.Graph.Input.Where(i => !g.Initializers.ContainsKey(i.Name)).ToList();
        foreach (var i in inputs)
            if (!BertInputs.Contains(i.Name))
                throw g.Error($"graph input '{i.Name}' is not a BERT input (expected {string.Join(", ", BertInputs)}).");
        if (!inputs.Any(i => i.Name == "input_ids"))
            throw g.Error("the graph has no input 'input_ids'; a BERT export takes input_ids (and attention_mask, token_type_ids).");
    }

    // ------------------------------------------------------------------ weights

    /// <summary>Fills <paramref name="tensors"/> with HF-named parameters; returns the initializers used for them.</summary>
    private static HashSet<string> MapParameters(OnnxGraph g, Dictionary<string, Tensor> tensors)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        void Put(string key, Tensor t, string from)
        {
            if (!tensors.TryAdd(key, t))
            {
                t.Dispose();
                throw g.Error($"two tensors map to '{key}' (the second from {from}); the graph is not a plain BertModel export.");
            }
        }

        // Linear weights inside the encoder: MatMul(x, W) → Add(bias), W (in, out) named after the bias.
        foreach (var n in g.Graph.Node.Where(n => n.OpType == "MatMul"))
        {
            if (n.Input.Count < 2 || !g.Initializers.TryGetValue(n.Input[1], out var w)) continue; // attention's Q·Kᵀ and P·V
            if (w.Dims.Count != 2)
                throw g.Error($"{g.Describe(n)}: its weight initializer '{w.Name}' has shape {OnnxGraph.Dims(w)}; a Linear weight is 2-D (in, out).");
            var consumers = g.Consumers(n.Output[0]);
            var add = consumers.Count == 1 && consumers[0].OpType == "Add" ? consumers[0] : null;
            string? biasName = add?.Input.FirstOrDefault(i => i != n.Output[0]);
            if (add is null || biasName is null || !g.Initializers.TryGetValue(biasName, out var bias) || !biasName.EndsWith(".bias", StringComparison.Ordinal))
            {
                string found = consumers.Count == 0 ? "nothing uses its output"
                    : "its output goes to " + string.Join(", ", consumers.Select(c => $"{g.Describe(c)}{(c.OpType == "Add" ? $" adding '{c.Input.FirstOrDefault(i => i != n.Output[0])}'" : "")}"));
                throw g.Error($"{g.Describe(n)}: its weight initializer '{w.Name}' {OnnxGraph.Dims(w)} is not followed by an Add of a bias initializer named '<module>.bias' ({found}). " +
                              "torch.onnx exports each nn.Linear of a HF model as MatMul → Add(bias), and the bias's name is where the weight's HF name is kept; a Linear without bias, or a graph rewritten by an optimiser, cannot be mapped.");
            }
            if (bias.Dims.Count != 1 || bias.Dims[0] != w.Dims[1])
                throw g.Error($"{g.Describe(add)}: bias '{biasName}' has shape {OnnxGraph.Dims(bias)}, but the MatMul weight '{w.Name}' before it is {OnnxGraph.Dims(w)} (in, out): the bias must have 'out' = {w.Dims[1]} entries.");
            string key = biasName[..^".bias".Length] + ".weight";
            using (var raw = Float(g, w)) Put(key, raw.t().contiguous(), $"{g.Describe(n)}, initializer '{w.Name}'");
            used.Add(w.Name);
        }

        // Linear on 2-D inputs (the pooler): Gemm(x, W, b) with HF-named initializers.
        foreach (var n in g.Graph.Node.Where(n => n.OpType == "Gemm"))
        {
            if (n.Input.Count < 3 || !g.Initializers.TryGetValue(n.Input[1], out var w) || !g.Initializers.TryGetValue(n.Input[2], out var bias) || !bias.Name.EndsWith(".bias", StringComparison.Ordinal))
                throw g.Error($"{g.Describe(n)}: expected Gemm(x, weight initializer, bias initializer named '<module>.bias'), as torch.onnx exports an nn.Linear on 2-D input (the pooler).");
            long Attr(string name, long dflt) => n.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : dflt;
            float AttrF(string name) => n.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : 1f;
            if (AttrF("alpha") != 1f || AttrF("beta") != 1f || Attr("transA", 0) != 0)
                throw g.Error($"{g.Describe(n)}: alpha, beta must be 1 and transA 0, as torch.onnx exports nn.Linear.");
            string key = bias.Name[..^".bias".Length] + ".weight";
            if (w.Name.EndsWith(".weight", StringComparison.Ordinal) && w.Name != key)
                throw g.Error($"{g.Describe(n)}: weight '{w.Name}' and bias '{bias.Name}' name different modules.");
            using var raw = Float(g, w);
            Put(key, Attr("transB", 0) == 1 ? raw.clone() : raw.t().contiguous(), $"{g.Describe(n)}, initializer '{w.Name}'");
            used.Add(w.Name);
        }

        // Everything else that is a parameter keeps its HF name (embeddings, biases, LayerNorm weights).
        foreach (var t in g.Graph.Initializer)
        {
            if (used.Contains(t.Name) || Buffers.Contains(t.Name) || !IsHfName(t.Name)) continue;
            Put(t.Name, Float(g, t), $"initializer '{t.Name}'");
            used.Add(t.Name);
        }
        return used;
    }

    private static bool IsHfName(string name) =>
        name.StartsWith("embeddings.", StringComparison.Ordinal) || name.StartsWith("encoder.", StringComparison.Ordinal) || name.StartsWith("pooler.", StringComparison.Ordinal);

    /// <summary>Initializers that are not parameters must be small shape/scalar constants (or HF's index buffers).</summary>
    private static void CheckOtherInitializers(OnnxGraph g, HashSet<string> used, List<string> notes)
    {
        foreach (var t in g.Graph.Initializer.Where(t => !used.Contains(t.Name)))
        {
            if (Buffers.Contains(t.Name))
            {
                notes.Add($"{t.Name} {OnnxGraph.Dims(t)}: HF's index buffer, not a parameter (HF no longer saves it); left out");
                continue;
            }
            long count = t.Dims.Aggregate(1L, (a, d) => a * d);
            if (count > MaxConstantElements)
            {
                string users = string.Join(", ", g.Consumers(t.Name).Select(g.Describe));
                throw g.Error($"initializer '{t.Name}' {OnnxGraph.Dims(t)} (used by {(users.Length == 0 ? "no node" : users)}) is not a BERT parameter: " +
                              "expected HF-named tensors (embeddings.*, encoder.layer.N.*, pooler.*) and Linear weights as MatMul operands followed by their bias Add.");
            }
        }
    }

    private static Tensor Float(OnnxGraph g, TensorProto t)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw g.Error($"initializer '{t.Name}' keeps its data in an external file; export with the weights inside the .onnx file (models under 2 GB).");
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw g.Error($"initializer '{t.Name}' has ONNX data type {(TensorProto.Types.DataType)t.DataType}; only float32 exports can be imported (export the model in float32).");
        long count = t.Dims.Aggregate(1L, (a, d) => a * d);
        long[] shape = t.Dims.ToArray();
        if (t.RawData.Length > 0)
        {
            if (t.RawData.Length != count * 4)
                throw g.Error($"initializer '{t.Name}' {OnnxGraph.Dims(t)} holds {t.RawData.Length} bytes of data, not {count * 4}; the file is damaged.");
            return torch.tensor(MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray(), shape);
        }
        if (t.FloatData.Count != count)
            throw g.Error($"initializer '{t.Name}' {OnnxGraph.Dims(t)} holds {t.FloatData.Count} values, not {count}; the file is damaged.");
        return torch.tensor(t.FloatData.ToArray(), shape);
    }

    // ------------------------------------------------------------------ config

    private static BertConfig ReadConfig(OnnxGraph g, Dictionary<string, Tensor> tensors, List<string> notes, out bool pooler)
    {
        long[] Shape(string key) => tensors.TryGetValue(key, out var t) ? t.shape
            : throw g.Error($"the graph has no tensor '{key}'; a BERT export holds HF's parameter names (embeddings.word_embeddings.weight, encoder.layer.0.…) — is this a BertModel exported by torch.onnx?");

        var word = Shape("embeddings.word_embeddings.weight");
        var positions = Shape("embeddings.position_embeddings.weight");
        var types = Shape("embeddings.token_type_embeddings.weight");
        int hidden = checked((int)word[1]);
        notes.Add($"vocab_size {word[0]}, hidden_size {hidden}: embeddings.word_embeddings.weight [{word[0]}, {word[1]}]");
        notes.Add($"max_position_embeddings {positions[0]}: embeddings.position_embeddings.weight; type_vocab_size {types[0]}: embeddings.token_type_embeddings.weight");

        var layers = tensors.Keys.Select(k => LayerKey.Match(k)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToHashSet();
        if (layers.Count == 0) throw g.Error("the graph has no encoder.layer.N.* tensors; a BERT export has at least one encoder layer.");
        int numLayers = layers.Max() + 1;
        int gap = Enumerable.Range(0, numLayers).FirstOrDefault(i => !layers.Contains(i), -1);
        if (gap >= 0)
            throw g.Error($"the graph has tensors of encoder.layer.{numLayers - 1} but none of encoder.layer.{gap}; layers must be 0..N-1.");
        notes.Add($"num_hidden_layers {numLayers}: encoder.layer.0 … encoder.layer.{numLayers - 1}");

        int intermediate = checked((int)Shape("encoder.layer.0.intermediate.dense.weight")[0]);
        for (int i = 1; i < numLayers; i++)
            if (Shape($"encoder.layer.{i}.intermediate.dense.weight")[0] != intermediate)
                throw g.Error($"encoder.layer.{i}.intermediate.dense has {Shape($"encoder.layer.{i}.intermediate.dense.weight")[0]} outputs but layer 0 has {intermediate}; BERT's config has one intermediate_size.");
        notes.Add($"intermediate_size {intermediate}: encoder.layer.N.intermediate.dense (out, in) = [{intermediate}, {hidden}]");

        CheckAbsolutePositions(g, checked((int)positions[0]), notes);
        int heads = ReadHeads(g, numLayers, hidden, notes);
        double eps = ReadLayerNormEps(g, numLayers, notes);
        string act = ReadActivation(g, numLayers, notes);

        bool hasW = tensors.ContainsKey("pooler.dense.weight"), hasB = tensors.ContainsKey("pooler.dense.bias");
        if (hasW != hasB) throw g.Error($"the graph has pooler.dense.{(hasW ? "weight" : "bias")} but not pooler.dense.{(hasW ? "bias" : "weight")}; a pooler is a Linear with both.");
        pooler = hasW;
        notes.Add(pooler ? "pooler: pooler.dense (Gemm → Tanh)" : "no pooler in the graph: the folder has none (loading it initialises one anew, reported)");
        notes.Add("hidden_dropout_prob 0.1, attention_probs_dropout_prob 0.1, initializer_range 0.02: HF's defaults (an inference graph holds no dropout or init; they do not change outputs)");

        var config = new BertConfig
        {
            VocabSize = checked((int)word[0]), HiddenSize = hidden, NumHiddenLayers = numLayers, NumAttentionHeads = heads,
            IntermediateSize = intermediate, HiddenAct = act, MaxPositionEmbeddings = checked((int)positions[0]),
            TypeVocabSize = checked((int)types[0]), LayerNormEps = eps,
        };
        var problems = config.Validate().ToList();
        if (problems.Count > 0) throw g.Error("the config read from the graph is invalid: " + string.Join("; ", problems.Select(p => $"{p.Key} {p.Message}")));
        return config;
    }

    /// <summary>The Add that adds <paramref name="initializer"/> (a bias or LayerNorm bias), or an error.</summary>
    private static NodeProto AdderOf(OnnxGraph g, string initializer, string role)
    {
        var adds = g.Consumers(initializer).Where(n => n.OpType == "Add").ToList();
        return adds.Count == 1 ? adds[0]
            : throw g.Error($"{(adds.Count == 0 ? "no" : "more than one")} Add node adds '{initializer}' ({role}); expected exactly one, as torch.onnx exports a HF BertModel.");
    }

    /// <summary>
    /// HF's absolute positions: the position table is gathered at a slice, from 0, of the constant 0, 1, …, P−1 (the
    /// <c>position_ids</c> buffer). RoBERTa-style offsets or relative positions would gather something else.
    /// </summary>
    private static void CheckAbsolutePositions(OnnxGraph g, int positions, List<string> notes)
    {
        const string table = "embeddings.position_embeddings.weight";
        var gather = g.Consumers(table).FirstOrDefault(n => n.OpType == "Gather" && n.Input[0] == table);
        string expect = $"expected '{table}' gathered at positions 0 … T−1, sliced from the constant position_ids 0 … {positions - 1} (HF's position_embedding_type 'absolute')";
        if (gather is null) throw g.Error($"{expect}, but no Gather reads it.");
        var slice = g.Producer(gather.Input[1]);
        var ids = slice is { OpType: "Slice" } ? g.ConstantTensor(slice.Input[0]) : null;
        var values = ids is null ? null : OnnxGraph.Longs(ids);
        var starts = slice is { OpType: "Slice" } && slice.Input.Count > 1 ? g.TryInts(slice.Input[1]) : null;
        bool arange = values is not null && values.Length == positions && values.Select((v, i) => v == i).All(b => b);
        if (!arange || starts is not [0])
            throw g.Error($"{expect}; {g.Describe(gather)} gathers it at {(slice is null ? $"'{gather.Input[1]}'" : g.Describe(slice))}{(slice is { OpType: "Slice" } && !arange ? " of a tensor that is not 0 … P−1" : "")}{(arange && starts is not [0] ? " starting elsewhere than 0" : "")}.");
        notes.Add($"position_embedding_type absolute: {g.Describe(gather)} reads the position table at {g.Describe(slice!)} of 0 … {positions - 1}");
    }

    private static int ReadHeads(OnnxGraph g, int numLayers, int hidden, List<string> notes)
    {
        int? heads = null;
        string? first = null;
        for (int i = 0; i < numLayers; i++)
            foreach (var proj in new[] { "query", "key", "value" })
            {
                string module = $"encoder.layer.{i}.attention.self.{proj}";
                var add = AdderOf(g, module + ".bias", $"the {proj} projection's bias");
                var reshape = g.Consumers(add.Output[0]).FirstOrDefault(n => n.OpType == "Reshape" && n.Input[0] == add.Output[0]);
                string expect = $"{g.Describe(add)} adds {module}.bias; expected a Reshape of its output to (batch, sequence, heads, head_dim) with constant heads and head_dim right after it (HF's transpose_for_scores)";
                if (reshape is null)
                    throw g.Error($"{expect}, but its output goes to {string.Join(", ", g.Consumers(add.Output[0]).Select(g.Describe))}.");
                var dims = g.TryInts(reshape.Input[1]);
                if (dims is not { Length: 4 } || dims[2] is not { } h || dims[3] is not { } d || h < 1 || d < 1)
                    throw g.Error($"{expect}; {g.Describe(reshape)} reshapes to {(dims is null ? "a shape computed at run time" : $"[{string.Join(", ", dims.Select(x => x?.ToString(CultureInfo.InvariantCulture) ?? "?"))}]")}, not [?, ?, heads, head_dim].");
                if (h * d != hidden)
                    throw g.Error($"{g.Describe(reshape)} splits {module} into {h} heads × {d} = {h * d} features, but hidden_size is {hidden}; pruned or resized heads are not supported.");
                if (heads is { } known && known != h)
                    throw g.Error($"{g.Describe(reshape)} splits {module} into {h} heads, but {first} uses {known}; BERT's config has one num_attention_heads.");
                heads ??= (int)h;
                first ??= g.Describe(reshape);
            }
        notes.Add($"num_attention_heads {heads}: the Reshape after every query/key/value projection, e.g. {first} → [?, ?, {heads}, {hidden / heads}]");
        return heads!.Value;
    }

    private static double ReadLayerNormEps(OnnxGraph g, int numLayers, List<string> notes)
    {
        var norms = new List<string> { "embeddings.LayerNorm" };
        for (int i = 0; i < numLayers; i++) norms.AddRange([$"encoder.layer.{i}.attention.output.LayerNorm", $"encoder.layer.{i}.output.LayerNorm"]);
        float? eps = null;
        string? where = null;
        foreach (var ln in norms)
        {
            // (x − mean) / Sqrt(ReduceMean((x − mean)²) + eps) · weight + bias: find Mul(weight) ← Div ← Sqrt ← Add(eps).
            var mul = g.Consumers(ln + ".weight").FirstOrDefault(n => n.OpType == "Mul");
            string expect = $"LayerNorm '{ln}': expected (x − mean) / Sqrt(variance + eps) · weight, as torch.onnx decomposes LayerNorm at opsets below 17";
            if (mul is null) throw g.Error($"{expect}, but no Mul node multiplies by '{ln}.weight'.");
            var div = g.Producer(mul.Input.First(x => x != ln + ".weight"));
            var sqrt = div is { OpType: "Div" } ? g.Producer(div.Input[1]) : null;
            var add = sqrt is { OpType: "Sqrt" } ? g.Producer(sqrt.Input[0]) : null;
            float? value = add is { OpType: "Add" } ? add.Input.Select(g.ScalarFloat).FirstOrDefault(v => v is not null) : null;
            if (value is not { } v)
                throw g.Error($"{expect}; before {g.Describe(mul)} there is {(div is null ? "a graph input" : g.Describe(div))}{(sqrt is null ? "" : $" ← {g.Describe(sqrt)}")}{(add is null ? "" : $" ← {g.Describe(add)}")}, not Div ← Sqrt ← Add(constant eps).");
            if (eps is { } e && BitConverter.SingleToInt32Bits(e) != BitConverter.SingleToInt32Bits(v))
                throw g.Error($"{g.Describe(add!)} adds eps {v.ToString("R", CultureInfo.InvariantCulture)} in '{ln}', but {where} adds {e.ToString("R", CultureInfo.InvariantCulture)}; BERT's config has one layer_norm_eps.");
            eps ??= v;
            where ??= $"{g.Describe(add!)} in '{ln}'";
        }
        // The float32 constant printed shortest (1E-12), not its binary expansion (9.9999999600419720e-13).
        double result = double.Parse(eps!.Value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        notes.Add($"layer_norm_eps {result.ToString("R", CultureInfo.InvariantCulture)}: the float32 constant added under every LayerNorm's Sqrt ({norms.Count} LayerNorms), e.g. {where}");
        return result;
    }

    private static string ReadActivation(OnnxGraph g, int numLayers, List<string> notes)
    {
        string? act = null, first = null;
        for (int i = 0; i < numLayers; i++)
        {
            string module = $"encoder.layer.{i}.intermediate.dense";
            var add = AdderOf(g, module + ".bias", "the intermediate projection's bias");
            var users = g.Consumers(add.Output[0]);
            string? found = null;
            string? evidence = null;
            foreach (var u in users)
            {
                if (u.OpType == "Relu") { found = "relu"; evidence = g.Describe(u); }
                // gelu(x) = x · ½(1 + erf(x / √2)): x / √2 (or x · 1/√2) feeding an Erf.
                bool scaled = (u.OpType == "Div" && u.Input[0] == add.Output[0] && g.ScalarFloat(u.Input[1]) is { } s && Math.Abs(s - Math.Sqrt(2)) < 1e-6)
                              || (u.OpType == "Mul" && u.Input.Select(g.ScalarFloat).Any(c => c is { } m && Math.Abs(m - Math.Sqrt(0.5)) < 1e-6));
                if (scaled && g.Consumers(u.Output[0]).FirstOrDefault(n => n.OpType == "Erf") is { } erf) { found = "gelu"; evidence = g.Describe(erf); }
            }
            if (found is null)
                throw g.Error($"{g.Describe(add)} adds {module}.bias; expected the activation after it: gelu (x / √2 → Erf, HF's 'gelu') or Relu, but its output goes to {string.Join(", ", users.Select(g.Describe))}. " +
                              "Tanh-approximated gelu and other activations are not recognised.");
            if (act is not null && act != found)
                throw g.Error($"layer {i} uses {found} ({evidence}) but {first} is {act}; BERT's config has one hidden_act.");
            act ??= found;
            first ??= evidence;
        }
        notes.Add($"hidden_act {act}: {(act == "gelu" ? "x / √2 → Erf" : "Relu")} after every intermediate.dense, e.g. {first}");
        return act!;
    }

    private static void CheckOutputs(OnnxGraph g, BertConfig config)
    {
        string lastNorm = $"encoder.layer.{config.NumHiddenLayers - 1}.output.LayerNorm.bias";
        var last = AdderOf(g, lastNorm, "the last layer's LayerNorm");
        var outputs = g.Graph.Output.Select(o => o.Name).ToList();
        if (!outputs.Contains(last.Output[0]))
            throw g.Error($"the graph's outputs ({string.Join(", ", outputs)}) do not include the last encoder layer's output ({g.Describe(last)} → '{last.Output[0]}'); " +
                          "only bare encoders whose output is last_hidden_state can be imported (not heads with logits).");
    }

    /// <summary>The mapped tensors must be exactly the state dict of HF's BertModel for the config read.</summary>
    private static void CheckAgainstModel(OnnxGraph g, BertConfig config, bool pooler, Dictionary<string, Tensor> tensors)
    {
        using var model = new BertModel(config, addPoolingLayer: pooler);
        var expected = model.state_dict();
        foreach (var (key, t) in expected)
        {
            if (!tensors.TryGetValue(key, out var have))
                throw g.Error($"the graph has no tensor for '{key}'" + (key.EndsWith(".weight", StringComparison.Ordinal) && !key.Contains("LayerNorm", StringComparison.Ordinal) && !key.Contains("embeddings", StringComparison.Ordinal)
                    ? $" (expected a MatMul whose bias Add adds '{key[..^".weight".Length]}.bias')." : " (expected an initializer of that name)."));
            if (!have.shape.SequenceEqual(t.shape))
                throw g.Error($"'{key}' has shape [{string.Join(", ", have.shape)}] in the graph, but BertModel with the config read from it expects [{string.Join(", ", t.shape)}].");
        }
        if (tensors.Keys.FirstOrDefault(k => !expected.ContainsKey(k)) is { } extra)
            throw g.Error($"the graph holds '{extra}', which is not a parameter of HF's BertModel; only BERT encoders can be imported.");
    }
}
