namespace Distill.Models;

/// <summary>
/// A model family's configuration record. Recipes bind it from YAML (keys are the <c>[JsonPropertyName]</c> or the
/// snake_case property name); HuggingFace families also read it from <c>config.json</c>.
/// </summary>
public interface IModelConfig
{
    /// <summary>Problems with the values, each as (key, message); empty when valid. Never throws.</summary>
    IEnumerable<(string Key, string Message)> Validate();
}
