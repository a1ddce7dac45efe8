using YamlDotNet.RepresentationModel;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// Where every node and bound record of one recipe came from, and the errors found so far. Nodes the loader
/// synthesises (merged <c>train</c> mappings, defaulted <c>config</c>) borrow the location of an original node;
/// nodes parsed from <c>--set</c> overrides are located at the override text.
/// </summary>
internal sealed class RecipeSource(string file, string baseDirectory)
{
    private readonly Dictionary<YamlNode, YamlNode> _locatedAt = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<YamlNode, string> _overrideText = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<YamlNode, string> _paths = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, (YamlNode Node, string Path)> _bound = new(ReferenceEqualityComparer.Instance);

    /// <summary>The recipe file as given by the caller (used verbatim in error locations).</summary>
    public string File { get; } = file;

    /// <summary>Folder that relative paths in the recipe are resolved against.</summary>
    public string BaseDirectory { get; } = baseDirectory;

    public List<RecipeError> Errors { get; } = [];

    /// <summary>Errors are reported at <paramref name="original"/>'s place for the synthesised <paramref name="node"/>.</summary>
    public void LocateAt(YamlNode node, YamlNode original) => _locatedAt[node] = original;

    /// <summary>Marks a node (and everything below it) as coming from a <c>--set</c> override.</summary>
    public void MarkOverride(YamlNode node, string overrideText)
    {
        foreach (var n in YamlNodes.All(node)) _overrideText[n] = overrideText;
    }

    /// <summary>Fixes the key path reported for a node wherever it is bound (shared top-level <c>train</c> keys).</summary>
    public void SetPath(YamlNode node, string path) => _paths[node] = path;

    public string? PathOf(YamlNode node) => _paths.GetValueOrDefault(node);

    /// <summary>Remembers the node and key path a record was bound from, for recipe-level checks.</summary>
    public void Record(object bound, YamlNode node, string path) => _bound[bound] = (node, path);

    public bool TryGetSource(object bound, out YamlNode node, out string path)
    {
        if (_bound.TryGetValue(bound, out var s)) { (node, path) = s; return true; }
        (node, path) = (null!, "");
        return false;
    }

    /// <summary>
    /// The node and key path of <paramref name="subKey"/> (like <c>hidden_sizes[0]</c>) inside the mapping a record was
    /// bound from: the deepest node that exists on the way (so a missing key is reported at its parent) and the full path.
    /// </summary>
    public (YamlNode? Node, string Path) Locate(object bound, string subKey)
    {
        if (!TryGetSource(bound, out var node, out var path)) return (null, subKey);
        YamlNode current = node;
        string fullPath = path;
        bool found = true;
        foreach (var segment in KeyPaths.Split(subKey))
        {
            fullPath = segment is int i ? KeyPaths.Index(fullPath, i) : KeyPaths.Child(fullPath, (string)segment);
            if (!found) continue;
            YamlNode? next = segment switch
            {
                int i2 when current is YamlSequenceNode seq && i2 >= 0 && i2 < seq.Children.Count => seq.Children[i2],
                string key => YamlNodes.Find(current, key).Value,
                _ => null,
            };
            if (next is null) found = false;
            else
            {
                current = next;
                if (PathOf(next) is { } p) fullPath = p;
            }
        }
        return (current, fullPath);
    }

    /// <summary>Adds an error at <paramref name="node"/> (or at the file when null).</summary>
    public RecipeError Add(YamlNode? node, string keyPath, string message)
    {
        var error = Error(node, keyPath, message);
        Errors.Add(error);
        return error;
    }

    public RecipeError Error(YamlNode? node, string keyPath, string message)
    {
        for (int hops = 0; node is not null && hops < 64; hops++)
        {
            if (_overrideText.TryGetValue(node, out var text)) return new RecipeError(text, 0, 0, keyPath, message);
            if (!_locatedAt.TryGetValue(node, out var original)) break;
            node = original;
        }
        return node is null || node.Start.Line == 0
            ? new RecipeError(File, 0, 0, keyPath, message)
            : new RecipeError(File, (int)node.Start.Line, (int)node.Start.Column, keyPath, message);
    }

    /// <summary>True when an error was already reported at <paramref name="prefix"/> or below it.</summary>
    public bool HasErrorsUnder(string prefix) => Errors.Any(e =>
        e.KeyPath == prefix || e.KeyPath.StartsWith(prefix + ".", StringComparison.Ordinal)
        || e.KeyPath.StartsWith(prefix + "[", StringComparison.Ordinal));
}
