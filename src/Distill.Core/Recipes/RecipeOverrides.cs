using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// Applies <c>--set key.path=value</c> overrides to the recipe's node tree before binding, so overridden values are
/// type-checked exactly like values in the file. The path walks mappings by key and sequences by number
/// (<c>stages.1.name</c>); missing mapping keys are created (binding then reports them if they are unknown). The value
/// is parsed as YAML, so flow values work: <c>--set distill.terms.0.layers=[[1,2]]</c>. Nodes that come from an override
/// are located at the override text in errors.
/// </summary>
internal static class RecipeOverrides
{
    public static void Apply(YamlNode root, IReadOnlyList<string> overrides, RecipeSource source)
    {
        foreach (var text in overrides) ApplyOne(root, text, source);
    }

    private static void ApplyOne(YamlNode root, string text, RecipeSource source)
    {
        string where = $"--set {text}";
        void Error(string path, string message) => source.Errors.Add(new RecipeError(where, 0, 0, path, message));

        int eq = text.IndexOf('=');
        if (eq < 1) { Error("", "expected --set key.path=value (for example --set train.lr=3e-4)"); return; }
        string pathText = text[..eq].Trim();
        string[] segments = pathText.Split('.');
        if (segments.Any(s => s.Length == 0)) { Error(pathText, "the key path has an empty part; write keys separated by single dots, e.g. train.lr"); return; }

        YamlNode value;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text[(eq + 1)..]));
            value = stream.Documents.Count > 0 ? stream.Documents[0].RootNode : new YamlScalarNode("");
        }
        catch (YamlException e)
        {
            Error(pathText, $"the value is not valid YAML: {e.Message}");
            return;
        }
        source.MarkOverride(value, where);

        if (root is not YamlMappingNode) { Error(pathText, "the recipe is not a mapping, so there is nothing to override"); return; }
        YamlNode current = root;
        var shown = new List<object>();
        for (int i = 0; i < segments.Length; i++)
        {
            string segment = segments[i];
            bool last = i == segments.Length - 1;
            string parentPath = KeyPaths.Join(shown);
            switch (current)
            {
                case YamlMappingNode map:
                {
                    shown.Add(segment);
                    var (keyNode, existing) = YamlNodes.Find(map, segment);
                    if (last)
                    {
                        if (keyNode is not null) map.Children[keyNode] = value;
                        else
                        {
                            var newKey = new YamlScalarNode(segment);
                            source.MarkOverride(newKey, where);
                            map.Add(newKey, value);
                        }
                        return;
                    }
                    if (existing is null || YamlNodes.IsNull(existing))
                    {
                        var created = new YamlMappingNode();
                        source.MarkOverride(created, where);
                        if (keyNode is not null) map.Children[keyNode] = created;
                        else
                        {
                            var newKey = new YamlScalarNode(segment);
                            source.MarkOverride(newKey, where);
                            map.Add(newKey, created);
                        }
                        existing = created;
                    }
                    current = existing;
                    break;
                }
                case YamlSequenceNode seq:
                {
                    if (!int.TryParse(segment, out int index) || index < 0)
                    {
                        Error(KeyPaths.Join(shown), $"'{segment}' is not an index: {parentPath} is a list; use a number, e.g. {string.Join('.', segments.Select((s, j) => j == i ? "0" : s))}");
                        return;
                    }
                    shown.Add(index);
                    if (index >= seq.Children.Count)
                    {
                        Error(KeyPaths.Join(shown), $"index {index} is out of range: {parentPath} has {seq.Children.Count} entries" +
                            (seq.Children.Count > 0 ? $" (0 to {seq.Children.Count - 1})" : ""));
                        return;
                    }
                    if (last) { seq.Children[index] = value; return; }
                    current = seq.Children[index];
                    break;
                }
                default:
                    shown.Add(segment);
                    Error(KeyPaths.Join(shown), $"{parentPath} is a single value ({YamlNodes.Describe(current)}), so it has no key '{segment}'");
                    return;
            }
        }
    }
}
