using System.Text.RegularExpressions;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Design;

/// <summary>
/// Initialises a designed student from the teacher where shapes allow: every student tensor of the state dict
/// (parameters and buffers) whose teacher counterpart has the same name and shape is copied. Numbered layer lists
/// (<c>layer.N</c>, <c>layers.N</c>, <c>blocks.N</c>) of unequal depth are matched uniformly, student layer i taking
/// teacher layer ⌈(i + 1)·L_t / L_s⌉ − 1 (every k-th layer and always the last, the DistilBERT / PKD "skip" choice).
/// Tensors without a same-shaped counterpart keep their fresh initialisation. Models of different families share nothing.
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
        int copied = 0;
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in s)
        {
            string source = MapName(name, studentDepth, teacherDepth);
            if (!t.TryGetValue(source, out var value) || !value.shape.SequenceEqual(target.shape) || value.dtype != target.dtype) continue;
            target.copy_(value.to(target.device));
            copied++;
        }
        return (copied, s.Count);
    }

    /// <summary>The teacher name a student state-dict name takes its value from.</summary>
    public static string MapName(string studentName, IReadOnlyDictionary<string, int> studentDepth, IReadOnlyDictionary<string, int> teacherDepth)
    {
        var m = LayerIndex().Match(studentName);
        if (!m.Success) return studentName;
        string prefix = studentName[..(m.Index + m.Groups[1].Length)] + m.Groups[2].Value;
        if (!studentDepth.TryGetValue(prefix, out int ls) || !teacherDepth.TryGetValue(prefix, out int lt) || ls == lt) return studentName;
        int i = int.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
        int j = (int)Math.Ceiling((i + 1) * (double)lt / ls) - 1;
        j = Math.Clamp(j, 0, lt - 1);
        return studentName[..m.Groups[3].Index] + j.ToString(System.Globalization.CultureInfo.InvariantCulture) + studentName[(m.Groups[3].Index + m.Groups[3].Length)..];
    }

    /// <summary>Number of entries of each numbered layer list, keyed by its path (<c>bert.encoder.layer</c>).</summary>
    public static Dictionary<string, int> Depths(IEnumerable<string> names)
    {
        var depth = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var m = LayerIndex().Match(name);
            if (!m.Success) continue;
            string prefix = name[..(m.Index + m.Groups[1].Length)] + m.Groups[2].Value;
            int i = int.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
            depth[prefix] = Math.Max(depth.GetValueOrDefault(prefix), i + 1);
        }
        return depth;
    }
}
