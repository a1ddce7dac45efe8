using Distill.Models;
using Distill.Models.OnnxGraph;

namespace Distill.Onnx.Export;

/// <summary>
/// The ONNX graph builders, read from the model families' descriptors (<see cref="ModelFamily.Onnx"/>): a family is
/// exportable when its descriptor has one. An unknown or unexportable family is an error that lists the exportable ones.
/// </summary>
public sealed class OnnxExportRegistry(ModelRegistry families)
{
    /// <summary>The builders of every family shipped in Distill.</summary>
    public static OnnxExportRegistry Default { get; } = new(ModelRegistry.Default);

    /// <summary>The keys of the families with an ONNX export.</summary>
    public IReadOnlyCollection<string> Families => [.. families.Keys.Where(k => families.Get(k).Onnx is not null).Order()];

    public IOnnxFamilyExport Get(string family) => families.TryGet(family, out var f) && f.Onnx is { } builder
        ? builder
        : throw new OnnxExportException($"No ONNX export for model family '{family}'. Families with an ONNX export: {string.Join(", ", Families)}.");
}
