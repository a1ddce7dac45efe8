namespace Distill.Onnx.Export;

/// <summary>The ONNX graph builders by model family key. Unknown keys are an error that lists the valid ones.</summary>
public sealed class OnnxExportRegistry
{
    private readonly Dictionary<string, IOnnxFamilyExport> _builders = new(StringComparer.Ordinal);

    /// <summary>Every family Distill can export.</summary>
    public static OnnxExportRegistry Default { get; } = CreateDefault();

    public IReadOnlyCollection<string> Families => _builders.Keys;

    public void Register(IOnnxFamilyExport builder)
    {
        if (!_builders.TryAdd(builder.Family, builder)) throw new InvalidOperationException($"ONNX export for family '{builder.Family}' is registered twice.");
    }

    public IOnnxFamilyExport Get(string family) => _builders.TryGetValue(family, out var b)
        ? b
        : throw new OnnxExportException($"No ONNX export for model family '{family}'. Families with an ONNX export: {string.Join(", ", _builders.Keys.Order())}.");

    private static OnnxExportRegistry CreateDefault()
    {
        // One line per family: a family descriptor can hand its builder here instead.
        var r = new OnnxExportRegistry();
        r.Register(new MlpOnnxExport());
        r.Register(new CnnOnnxExport());
        r.Register(new BertOnnxExport());
        r.Register(new VitOnnxExport());
        r.Register(new Wav2Vec2OnnxExport());
        return r;
    }
}
