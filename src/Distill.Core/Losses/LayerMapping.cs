using Distill.Recipes;
using YamlDotNet.RepresentationModel;

namespace Distill.Losses;

/// <summary>
/// Which student layer is matched to which teacher layer: <c>uniform</c>, <c>last</c>, <c>skip:k</c>, or an explicit
/// list of <c>[student_layer, teacher_layer]</c> pairs. (Implementation pending in the losses work.)
/// </summary>
public sealed class LayerMapping : IRecipeValue<LayerMapping>
{
    private LayerMapping(string text) => Text = text;

    public string Text { get; }

    public static LayerMapping Uniform { get; } = new("uniform");

    public static LayerMapping Last { get; } = new("last");

    public static LayerMapping? FromYaml(YamlNode node, out string? error) => throw new NotImplementedException();

    public override string ToString() => Text;
}
