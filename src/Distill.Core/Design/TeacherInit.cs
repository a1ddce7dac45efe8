using System.Globalization;
using System.Text.RegularExpressions;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Design;

/// <summary>
/// Initialises a designed student from the teacher where shapes allow. A module outside numbered layer lists is copied
/// whole when the teacher has each of its tensors under the same name with the same shape and dtype. Layers of a numbered list (<c>layer.N</c>,
/// <c>layers.N</c>, <c>blocks.N</c>) are copied whole or not at all, from one teacher layer: the uniformly mapped one,
/// student layer i ← teacher layer ⌈(i + 1)·L_t / L_s⌉ − 1 (every k-th layer and always the last, the DistilBERT /
/// PKD-skip choice), else the layer with the same index, whichever has every tensor of the student layer in the same
/// shape first. So a layer never mixes weights of two teacher layers. The rest keeps its fresh initialisation; models
/// of different families share nothing. Parameters and buffers (BatchNorm statistics) alike.
/// </summary>
public static partial class TeacherInit
{
    [GeneratedRegex(@"(^|\.)(layer|layers|blocks)\.(\d+)\.")]
    private static partial Regex LayerIndex();

    /// <summary>Copies what fits; returns how many state-dict tensors were copied out of how many the student has.</summary>
    public static (int Copied, int Total) Copy(DistillModel teacher, DistillModel student)
    {
        var t = teacher.state_dict();
        var s = student.state_dict();
        if (teacher.Family != student.Family) return (0, s.Count);
        var teacherDepth = Depths(t.Keys);
        var studentDepth = Depths(s.Keys);
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var layer in s.Keys.GroupBy(k => LayerOf(k)?.Key ?? "module:" + ModuleOf(k), StringComparer.Ordinal))
        {
            if (LayerOf(layer.First()) is null)
            {
                if (layer.All(name => Fits(t, s, name, name)))
                    foreach (var name in layer) sources[name] = name;
                continue;
            }
            var (prefix, index, _) = LayerOf(layer.First())!.Value;
            var choices = new[] { MappedIndex(prefix, index, studentDepth, teacherDepth), index }.Distinct();
            foreach (int j in choices)
            {
                var names = layer.ToDictionary(n => n, n => Rename(n, j));
                if (!names.All(kv => Fits(t, s, kv.Key, kv.Value))) continue;
                foreach (var (name, source) in names) sources[name] = source;
                break;
            }
        }
        using var noGrad = torch.no_grad();
        foreach (var (name, source) in sources) s[name].copy_(t[source].to(s[name].device));
        return (sources.Count, s.Count);
    }

    private static string ModuleOf(string name) => name.LastIndexOf('.') is var dot and > 0 ? name[..dot] : "";

    private static bool Fits(IDictionary<string, Tensor> t, IDictionary<string, Tensor> s, string studentName, string teacherName) =>
        t.TryGetValue(teacherName, out var value) && value.shape.SequenceEqual(s[studentName].shape) && value.dtype == s[studentName].dtype;

    /// <summary>The layer list path, index and layer key (<c>bert.encoder.layer</c>, 3, <c>bert.encoder.layer.3</c>) of a tensor name, or null.</summary>
    private static (string Prefix, int Index, string Key)? LayerOf(string name)
    {
        var m = LayerIndex().Match(name);
        if (!m.Success) return null;
        string prefix = name[..(m.Index + m.Groups[1].Length)] + m.Groups[2].Value;
        int index = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        return (prefix, index, prefix + "." + index);
    }

    private static string Rename(string name, int index)
    {
        var m = LayerIndex().Match(name);
        return name[..m.Groups[3].Index] + index.ToString(CultureInfo.InvariantCulture) + name[(m.Groups[3].Index + m.Groups[3].Length)..];
    }

    private static int MappedIndex(string prefix, int i, IReadOnlyDictionary<string, int> studentDepth, IReadOnlyDictionary<string, int> teacherDepth)
    {
        if (!studentDepth.TryGetValue(prefix, out int ls) || !teacherDepth.TryGetValue(prefix, out int lt) || ls == lt) return i;
        return Math.Clamp((int)Math.Ceiling((i + 1) * (double)lt / ls) - 1, 0, lt - 1);
    }

    /// <summary>The teacher name a student tensor is taken from under the uniform layer mapping (before the shape check).</summary>
    public static string MapName(string studentName, IReadOnlyDictionary<string, int> studentDepth, IReadOnlyDictionary<string, int> teacherDepth) =>
        LayerOf(studentName) is var (prefix, index, _) ? Rename(studentName, MappedIndex(prefix, index, studentDepth, teacherDepth)) : studentName;

    /// <summary>Number of entries of each numbered layer list, keyed by its path (<c>bert.encoder.layer</c>).</summary>
    public static Dictionary<string, int> Depths(IEnumerable<string> names)
    {
        var depth = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in names)
            if (LayerOf(name) is var (prefix, index, _))
                depth[prefix] = Math.Max(depth.GetValueOrDefault(prefix), index + 1);
        return depth;
    }
}
