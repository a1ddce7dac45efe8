namespace Distill.Hf;

/// <summary>The fields of a HF <c>config.json</c> needed to pick a model class: <c>model_type</c> and <c>architectures</c>.</summary>
/// <param name="ConfigPath">Full path of config.json (factories read their own hyper-parameters from it).</param>
/// <param name="ModelType">HF <c>model_type</c> ("bert", "vit", "wav2vec2", ...).</param>
/// <param name="Architectures">HF <c>architectures</c> (class names); may be empty.</param>
public sealed record HfConfigInfo(string ConfigPath, string ModelType, IReadOnlyList<string> Architectures)
{
    /// <summary><c>architectures[0]</c>, the class HF's AutoModel would build, or null when the list is empty.</summary>
    public string? Architecture => Architectures.Count > 0 ? Architectures[0] : null;
}
