using Distill.Models;

namespace Distill.Models.OnnxGraph;

/// <summary>
/// Builds the ONNX graph of one model family from the model's own modules and weights: it declares the HF-named
/// inputs, walks the family's modules in forward order emitting nodes into the graph builder, and declares
/// <c>logits</c>. Implementations are stateless.
/// </summary>
public interface IOnnxFamilyExport
{
    /// <summary>The model family key (<see cref="DistillModel.Family"/>) this builder writes.</summary>
    string Family { get; }

    /// <summary>Emits the graph of <paramref name="model"/> (in eval mode: no dropout, no SpecAugment).</summary>
    void Build(DistillModel model, OnnxGraphBuilder graph, OnnxExportOptions options);

    /// <summary>
    /// State-dict keys of the lookup tables the graph reads only row by row (<see cref="OnnxGraphBuilder.Gather"/>,
    /// <see cref="OnnxGraphBuilder.SliceRows"/>): what an int8 export quantizes per row even when no stage did.
    /// </summary>
    IReadOnlyList<string> EmbeddingTables(DistillModel model) => [];
}
