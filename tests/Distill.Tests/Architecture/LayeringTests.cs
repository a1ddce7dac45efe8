using System.Text.RegularExpressions;
using Xunit;

namespace Distill.Tests.Architecture;

/// <summary>
/// The layers of Distill.Core (docs/architecture.md): primitives → models → algorithms → recipes → stages/runs; the
/// CLI and the benchmark harness (bench/Distill.Bench) are their own assemblies above them. A file may use its own layer and the ones below, never one above. The imports
/// that break this today are listed in <see cref="KnownUpward"/>, as debt to pay off: the test fails on any new upward
/// import, and on a listed one that is gone (delete it from the list, so the list only shrinks).
/// </summary>
public partial class LayeringTests
{
    /// <summary>The layer of each top-level namespace under <c>Distill.</c>.</summary>
    public static readonly IReadOnlyDictionary<string, int> Layer = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        // 0: primitives — tensor and checkpoint I/O, text / audio / vision processing, the schema annotations that
        //    records of every layer carry for the recipe binder (key bounds, required keys, custom YAML values)
        ["Checkpoints"] = 0, ["Text"] = 0, ["Audio"] = 0, ["Vision"] = 0, ["Schema"] = 0,
        // 1: models — the families, their HF architectures, importing ONNX graphs as HF folders
        ["Models"] = 1, ["Hf"] = 1, ["Onnx"] = 1,
        // 2: algorithms — datasets, losses, trainer and its callbacks, teacher cache, pruning/quantization/artifact, design
        ["Data"] = 2, ["Losses"] = 2, ["Training"] = 2, ["Logging"] = 2, ["Caching"] = 2, ["Compression"] = 2, ["Design"] = 2,
        // 3: recipes — the typed recipe records, binder, validator
        ["Recipes"] = 3,
        // 4: stages and runs
        ["Stages"] = 4, ["Runs"] = 4,
    };

    /// <summary>Upward imports that exist today ("file -> namespace"); each is to be removed, none added.</summary>
    private static readonly string[] KnownUpward =
    [
    ];

    [GeneratedRegex(@"^namespace Distill\.(?<ns>\w+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^using (?:static )?(?<ns>Distill(?:\.[\w.]+)?);", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    [GeneratedRegex(@"(?<![\w.])global::Distill\.(?<ns>\w+)\.|(?<![\w.""])Distill\.(?<ns>\w+)\.\w")]
    private static partial Regex QualifiedName();

    private static string CoreDir => Path.Combine(TestPaths.RepoRoot, "src", "Distill.Core");

    private static IEnumerable<string> SourceFiles(string root) =>
        Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") &&
                        !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    /// <summary>Every upward reference under <paramref name="root"/> (default: the core): "file -> Distill.X" for using lines and fully qualified names.</summary>
    public static SortedSet<string> UpwardReferences(string? root = null)
    {
        root ??= CoreDir;
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string file in SourceFiles(root))
        {
            string text = File.ReadAllText(file);
            var ns = NamespaceLine().Match(text);
            if (!ns.Success) continue;
            string own = ns.Groups["ns"].Value;
            Assert.True(Layer.ContainsKey(own), $"{file}: namespace Distill.{own} has no layer; add it to LayeringTests.Layer and docs/architecture.md");
            string rel = Path.GetRelativePath(root, file).Replace('\\', '/');
            var body = string.Join('\n', text.Split('\n').Where(l => !l.StartsWith("using ", StringComparison.Ordinal) && !l.StartsWith("namespace ", StringComparison.Ordinal) && !l.TrimStart().StartsWith("//", StringComparison.Ordinal)));
            // The root namespace (Distill: cross-cutting exception types) is below every layer; only Distill.X is checked.
            var targets = UsingLine().Matches(text).Where(m => m.Groups["ns"].Value.Contains('.'))
                .Select(m => (Full: m.Groups["ns"].Value, Top: m.Groups["ns"].Value.Split('.')[1]))
                .Concat(QualifiedName().Matches(body).Select(m => (Full: "Distill." + m.Groups["ns"].Value, Top: m.Groups["ns"].Value)));
            foreach (var (full, top) in targets)
            {
                Assert.True(Layer.ContainsKey(top), $"{rel}: refers to unknown namespace Distill.{top}");
                if (top != own && Layer[top] > Layer[own]) found.Add($"{rel} -> {full}");
            }
        }
        return found;
    }

    [Fact]
    public void NoNewUpwardImports()
    {
        var found = UpwardReferences();
        var added = found.Except(KnownUpward, StringComparer.Ordinal).ToList();
        Assert.True(added.Count == 0,
            "These files use a namespace above their own layer (docs/architecture.md); pass plain arguments instead:\n  " + string.Join("\n  ", added));
    }

    [Fact]
    public void TheListOfKnownUpwardImportsOnlyShrinks()
    {
        var gone = KnownUpward.Except(UpwardReferences(), StringComparer.Ordinal).ToList();
        Assert.True(gone.Count == 0, "These listed upward imports no longer exist; delete them from LayeringTests.KnownUpward:\n  " + string.Join("\n  ", gone));
    }

    /// <summary>Pairs of namespaces that use each other today ("A <-> B", A before B in ordinal order); to be removed, none added.</summary>
    private static readonly string[] KnownCycles = [];

    [GeneratedRegex(@"//[^\n]*|""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex CommentOrString();

    /// <summary>
    /// Which top-level namespaces each one refers to: using lines, fully qualified names, and names qualified relative to
    /// Distill (<c>Training.Trainer</c> inside <c>Distill.Data</c>), outside comments and string literals.
    /// </summary>
    public static Dictionary<string, SortedSet<string>> References(string? root = null)
    {
        root ??= CoreDir;
        var refs = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var relative = new Regex(@"(?<![\w.])(?<ns>" + string.Join("|", Layer.Keys) + @")\.[A-Z]\w*");
        foreach (string file in SourceFiles(root))
        {
            string text = File.ReadAllText(file);
            var ns = NamespaceLine().Match(text);
            if (!ns.Success) continue;
            string own = ns.Groups["ns"].Value;
            var set = refs.TryGetValue(own, out var known) ? known : refs[own] = new SortedSet<string>(StringComparer.Ordinal);
            var code = CommentOrString().Replace(text, " ");
            var body = string.Join('\n', code.Split('\n').Where(l => !l.StartsWith("using ", StringComparison.Ordinal) && !l.StartsWith("namespace ", StringComparison.Ordinal)));
            foreach (Match m in UsingLine().Matches(text))
                if (m.Groups["ns"].Value.Split('.') is [_, var top, ..]) set.Add(top);
            foreach (Match m in QualifiedName().Matches(body)) set.Add(m.Groups["ns"].Value);
            foreach (Match m in relative.Matches(body)) set.Add(m.Groups["ns"].Value);
            set.Remove(own);
        }
        return refs;
    }

    private static SortedSet<string> Cycles(string? root = null)
    {
        var refs = References(root);
        var cycles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (a, targets) in refs)
            foreach (string b in targets)
                if (string.CompareOrdinal(a, b) < 0 && refs.TryGetValue(b, out var back) && back.Contains(a)) cycles.Add($"{a} <-> {b}");
        return cycles;
    }

    [Fact]
    public void NoNewNamespaceCycles()
    {
        var found = Cycles();
        var added = found.Except(KnownCycles, StringComparer.Ordinal).ToList();
        Assert.True(added.Count == 0, "These namespaces now use each other; make one of them take plain arguments:\n  " + string.Join("\n  ", added));
        var gone = KnownCycles.Except(found, StringComparer.Ordinal).ToList();
        Assert.True(gone.Count == 0, "These listed cycles no longer exist; delete them from LayeringTests.KnownCycles:\n  " + string.Join("\n  ", gone));
    }

    [Fact]
    public void TheCheckSeesACycleThroughARelativeName()
    {
        string root = Path.Combine(Path.GetTempPath(), $"cycles-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "A.cs"), "namespace Distill.Data;\n\ninternal static class A { static int[] X => Training.Trainer.Permutation(3, 1, 0); } // Losses.X in a comment\n");
        File.WriteAllText(Path.Combine(root, "B.cs"), "using Distill.Data;\n\nnamespace Distill.Training;\n\ninternal static class B { const string S = \"Caching.Y\"; }\n");
        try { Assert.Equal(["Data <-> Training"], Cycles(root)); }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void TheCheckSeesAnUpwardImport()
    {
        // The scanner itself: a file in a low layer naming a high one is found, by using line and by qualified name.
        string root = Path.Combine(Path.GetTempPath(), $"layering-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(root, "Checkpoints"));
        File.WriteAllText(Path.Combine(root, "Checkpoints", "Probe.cs"),
            "using Distill.Runs;\nusing Distill.Text;\n\nnamespace Distill.Checkpoints;\n\ninternal static class P { static object? X => Distill.Stages.StageKind.Distill; }\n");
        try
        {
            var found = UpwardReferences(root);
            Assert.Equal(["Checkpoints/Probe.cs -> Distill.Runs", "Checkpoints/Probe.cs -> Distill.Stages"], found);
        }
        finally { Directory.Delete(root, true); }
    }
}
