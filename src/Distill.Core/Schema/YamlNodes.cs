using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Distill.Schema;

/// <summary>Small queries on the YAML node tree shared by the loader, binder, validator and the custom recipe values.</summary>
internal static class YamlNodes
{
    /// <summary>A YAML null: a plain (unquoted) empty value, <c>~</c> or <c>null</c>.</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s
        && s.Value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>The key and value nodes of <paramref name="key"/> in a mapping, or nulls.</summary>
    public static (YamlNode? Key, YamlNode? Value) Find(YamlNode? mapping, string key)
    {
        if (mapping is YamlMappingNode map)
            foreach (var kv in map.Children)
                if (kv.Key is YamlScalarNode { Value: var k } && k == key) return (kv.Key, kv.Value);
        return (null, null);
    }

    /// <summary>How a node reads in "got ..." messages: <c>'text'</c>, <c>a mapping</c>, <c>a list</c>, <c>null</c>.</summary>
    public static string Describe(YamlNode node) => node switch
    {
        _ when IsNull(node) => "null",
        YamlScalarNode s => $"'{s.Value}'",
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        _ => "an alias",
    };

    /// <summary>Every node below and including <paramref name="node"/>, keys included.</summary>
    public static IEnumerable<YamlNode> All(YamlNode node)
    {
        yield return node;
        if (node is YamlMappingNode map)
            foreach (var kv in map.Children)
            {
                foreach (var n in All(kv.Key)) yield return n;
                foreach (var n in All(kv.Value)) yield return n;
            }
        else if (node is YamlSequenceNode seq)
            foreach (var c in seq.Children)
                foreach (var n in All(c)) yield return n;
    }
}
