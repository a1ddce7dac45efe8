namespace Distill.Models.OnnxGraph;

/// <summary>How <c>Onnx.Export.OnnxExporter</c> writes a graph.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The default opset: 17 is the first with <c>LayerNormalization</c>.</summary>
    public const int DefaultOpset = 17;

    /// <summary>The newest opset the graphs are checked against (operators up to it keep the signatures used here).</summary>
    public const int MaxOpset = 20;

    /// <summary>The ONNX opset (17 to <see cref="MaxOpset"/>).</summary>
    public int Opset { get; init; } = DefaultOpset;

    /// <summary>Integer weights and activation grids; <see cref="OnnxQuantization.None"/> for fp32.</summary>
    public OnnxQuantization Quantization { get; init; } = OnnxQuantization.None;

    /// <summary>
    /// wav2vec2 only: whether the graph takes an <c>attention_mask</c> over samples. Null follows HF's feature
    /// extractor rule: layer-norm feature extractors are used with masks, group-norm ones (trained without) are not.
    /// </summary>
    public bool? AudioAttentionMask { get; init; }
}
