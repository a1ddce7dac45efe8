using Distill.Models.Bert;
using static TorchSharp.torch;

namespace Distill.Onnx;

/// <summary>What <see cref="OnnxBertReader.Read"/> found in a graph: the config, HF-named tensors in torch layouts, and
/// where each config value came from. Owns the tensors.</summary>
public sealed class OnnxBertModel(string source, BertConfig config, bool hasPooler, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyList<string> provenance) : IDisposable
{
    /// <summary>The file read.</summary>
    public string Source { get; } = source;

    /// <summary>The config read from the graph (<c>pad_token_id</c> is HF's default 0 until a vocabulary says otherwise).</summary>
    public BertConfig Config { get; } = config;

    /// <summary>Whether the graph has BERT's pooler (<c>pooler.dense</c>).</summary>
    public bool HasPooler { get; } = hasPooler;

    /// <summary>HF BertModel state dict: Linear weights (out, in) as torch stores them.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; } = tensors;

    /// <summary>One line per config value: its value and the graph evidence (or "HF's default" and why).</summary>
    public IReadOnlyList<string> Provenance { get; } = provenance;

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}
