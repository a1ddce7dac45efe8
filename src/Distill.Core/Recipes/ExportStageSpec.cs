using Distill.Compression.Artifact;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// <c>kind: export</c> — writes the run's current student as a compressed artifact (<c>docs/artifact-format.md</c>) to
/// <c>&lt;run&gt;/artifacts/&lt;stage&gt;/model.dcmp</c>, loads it back and evaluates the loaded model.
/// </summary>
public sealed record ExportStageSpec : StageSpec
{
    public ExportStageSpec() => Kind = "export";

    /// <summary>Huffman-code code streams where that is smaller.</summary>
    public bool Huffman { get; init; } = true;

    /// <summary>Store float values without a codebook or grid as float16 (lossy; the reported metrics include the loss).</summary>
    public bool Float16 { get; init; }

    /// <summary>Also offer float tensors without a quantization grid (biases, norms, CLS token, unquantized embeddings)
    /// an affine grid of this many bits over each tensor's [min, max] (2–16; null: off), used where smaller. Lossy, like
    /// <see cref="Float16"/>: the reported metrics are those of the reloaded model.</summary>
    [Bounds(2, 16)] public int? FloatBits { get; init; }

    /// <summary>Write every tensor's name and shape (true), or leave them out (false: the records are the student's state
    /// dict in order, named again on loading from the model the header's config builds; ~1.3 KB less for a 74-tensor
    /// wav2vec2 student). Such a file loads only through the model registry (<c>ModelArtifact.Load</c>).</summary>
    public bool TensorNames { get; init; } = true;

    /// <summary>Store tensors with at most 256 distinct values as codebook + indices (lossless).</summary>
    public bool Codebooks { get; init; } = true;

    /// <summary>Store only non-zeros (relative indices or N:M offsets) where that is smaller.</summary>
    public bool Sparse { get; init; } = true;

    /// <summary>The encoder options of this stage, with the quantize stage's linear grids.</summary>
    public ArtifactOptions ArtifactOptions(IReadOnlyDictionary<string, LinearQuantParams>? linear = null) => new()
    {
        Huffman = Huffman, Float16 = Float16, FloatBits = FloatBits, TensorNames = TensorNames, Codebooks = Codebooks, Sparse = Sparse,
        Linear = linear ?? new Dictionary<string, LinearQuantParams>(),
    };

    /// <summary>Also write the student as an ONNX graph, <c>artifacts/&lt;stage&gt;/model.onnx</c> (int8 after a qat/ptq
    /// quantize stage), with its ONNX Runtime proof report beside it (batch 1, one thread); summary.json's <c>onnx</c>
    /// entry holds the report.</summary>
    public bool Onnx { get; init; }

    /// <summary>Timed forward passes for <c>latency_ms_per_batch</c> (the median is reported).</summary>
    [Bounds(1, 1000)] public int LatencyRuns { get; init; } = 5;
}
