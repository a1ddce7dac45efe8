using YamlDotNet.RepresentationModel;

namespace Distill.Schema;

/// <summary>
/// A recipe value with its own YAML syntax (for example a layer mapping that is either <c>uniform</c> or a list of pairs).
/// The binder calls <see cref="FromYaml"/> instead of binding members.
/// </summary>
public interface IRecipeValue<TSelf> where TSelf : class, IRecipeValue<TSelf>
{
    /// <summary>Parses the node; on failure returns null and sets <paramref name="error"/> to what was expected.</summary>
    static abstract TSelf? FromYaml(YamlNode node, out string? error);
}
