using Distill.Models.OnnxGraph;
using Distill.Models;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Distill.Onnx.Export;

/// <summary>
/// Writes a <see cref="DistillModel"/> as an ONNX graph: the family's builder (<see cref="OnnxExportRegistry"/>) walks
/// the model's modules and weights, the graph is checked to have read every weight of the model (so no part of the
/// forward is silently left out) and written to a temporary file renamed into place. Only the model is exported:
/// projectors and hint modules live outside it.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Exports <paramref name="model"/> (put in eval mode for the duration) to <paramref name="path"/>.</summary>
    public static OnnxExportResult Export(DistillModel model, string path, OnnxExportOptions? options = null, OnnxExportRegistry? registry = null)
    {
        var bytes = ToBytes(model, options, registry, out var graph);
        var (parameters, nonZeros) = Count(model);
        string full = System.IO.Path.GetFullPath(path);
        string? dir = System.IO.Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        string temp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        var opts = options ?? new OnnxExportOptions();
        return new OnnxExportResult(full, bytes.LongLength, parameters, nonZeros, opts.Opset,
            graph.Input.Select(i => i.Name).ToList(), graph.Output.Select(o => o.Name).ToList(),
            opts.Quantization.Weights.Count, opts.Quantization.Activations.Count, opts.Quantization.Embeddings.Count);
    }

    /// <summary>The serialised ONNX model of <paramref name="model"/>.</summary>
    public static byte[] ToBytes(DistillModel model, OnnxExportOptions? options = null, OnnxExportRegistry? registry = null) =>
        ToBytes(model, options, registry, out _);

    private static byte[] ToBytes(DistillModel model, OnnxExportOptions? options, OnnxExportRegistry? registry, out GraphProto graph)
    {
        options ??= new OnnxExportOptions();
        if (options.Opset < OnnxExportOptions.DefaultOpset)
            throw new OnnxExportException($"opset {options.Opset} has no LayerNormalization; use {OnnxExportOptions.DefaultOpset} or later.");
        if (options.Opset > OnnxExportOptions.MaxOpset)
            throw new OnnxExportException($"opset {options.Opset} is newer than this exporter was checked against; use {OnnxExportOptions.DefaultOpset} to {OnnxExportOptions.MaxOpset}.");
        var builder = (registry ?? OnnxExportRegistry.Default).Get(model.Family);
        bool wasTraining = model.training;
        model.eval();
        using var scope = NewDisposeScope();
        try
        {
            var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            using (no_grad())
                foreach (var (key, t) in model.state_dict())
                    weights[key] = t.is_floating_point() ? t.detach().to(ScalarType.Float32).cpu() : t.detach().cpu();
            var g = new OnnxGraphBuilder(weights, options.Quantization, options.Opset);
            using (no_grad()) builder.Build(model, g, options);
            CheckComplete(model.Family, weights, g, options.Quantization);
            var onnx = new ModelProto
            {
                IrVersion = 8, ProducerName = "distill", ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
                Graph = g.Graph, DocString = $"Distill export of a '{model.Family}' model",
            };
            onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
            graph = g.Graph;
            return onnx.ToByteArray();
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    /// <summary>Every floating-point weight of the model is in the graph, and every integer weight and activation grid asked for was used.</summary>
    private static void CheckComplete(string family, Dictionary<string, Tensor> weights, OnnxGraphBuilder g, OnnxQuantization quant)
    {
        var left = weights.Where(w => w.Value.is_floating_point() && !g.UsedWeights.Contains(w.Key) && !IsTrainingOnly(w.Key)).Select(w => w.Key).ToList();
        if (left.Count > 0)
            throw new OnnxExportException($"The {family} ONNX graph does not read {left.Count} weight(s) of the model: {string.Join(", ", left.Take(8))}. " +
                                          "The model has modules the exporter does not know; export its HF folder instead (--format hf).");
        var unusedQ = quant.Weights.Keys.Concat(quant.Embeddings.Keys).Where(k => !g.UsedWeights.Contains(k)).ToList();
        if (unusedQ.Count > 0) throw new OnnxExportException($"Quantized weights not in the graph: {string.Join(", ", unusedQ.Take(8))}.");
        var unusedA = quant.Activations.Keys.Where(k => !g.UsedActivations.Contains(k)).ToList();
        if (unusedA.Count > 0)
            throw new OnnxExportException($"Activation ranges for modules the {family} graph has no quantizable input for: {string.Join(", ", unusedA.Take(8))}.");
    }

    /// <summary>Weights that only training reads (wav2vec2's SpecAugment embedding).</summary>
    private static bool IsTrainingOnly(string key) => key == "masked_spec_embed" || key.EndsWith(".masked_spec_embed", StringComparison.Ordinal);

    private static (long Parameters, long NonZeros) Count(DistillModel model)
    {
        long parameters = 0, nonZeros = 0;
        using var scope = NewDisposeScope();
        foreach (var (key, p) in model.named_parameters())
        {
            if (IsTrainingOnly(key)) continue;
            parameters += p.numel();
            nonZeros += p.count_nonzero().item<long>();
        }
        return (parameters, nonZeros);
    }
}
