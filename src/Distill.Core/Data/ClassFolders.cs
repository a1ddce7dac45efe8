namespace Distill.Data;

/// <summary>
/// The files of a split laid out as <c>&lt;root&gt;/&lt;split&gt;/&lt;class&gt;/…</c> (torchvision's ImageFolder layout): one
/// folder per class, files with the given extensions at any depth below it, in ordinal path order. Hidden entries
/// (names starting with '.') and files with other extensions are skipped; a data file lying directly in the split
/// folder, a class folder without data files and a missing split folder are errors naming the folder and the fix.
/// </summary>
public static class ClassFolders
{
    /// <summary>The split's folder.</summary>
    public static string SplitFolder(string root, string split) => Path.Combine(root, split);

    /// <summary>The class folder names of a split, sorted ordinally (no file is opened).</summary>
    public static IReadOnlyList<string> ClassNames(string root, string split, IReadOnlyList<string> extensions, string what)
    {
        string folder = SplitFolder(root, split);
        if (!Directory.Exists(folder))
            throw new InvalidInputException(folder, $"{folder}: the {split} split's folder does not exist; create it with one folder of {what} per class, or change the split name.");
        var loose = Directory.EnumerateFiles(folder).Where(f => HasExtension(f, extensions) && !Hidden(f)).Order(StringComparer.Ordinal).FirstOrDefault();
        if (loose is not null)
            throw new InvalidInputException(loose, $"{loose}: lies directly in the split folder; put each file in the folder of its class ({folder}/<class>/{Path.GetFileName(loose)}).");
        var classes = Directory.EnumerateDirectories(folder).Where(d => !Hidden(d)).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToList();
        if (classes.Count == 0)
            throw new InvalidInputException(folder, $"{folder}: the split is empty (no class folders); add one folder of {what} per class, e.g. {folder}/<class>/…");
        return classes;
    }

    /// <summary>Every data file of a split with its class folder, in ordinal order of class and path.</summary>
    public static IReadOnlyList<(string File, string Class)> Files(string root, string split, IReadOnlyList<string> extensions, string what)
    {
        var result = new List<(string, string)>();
        foreach (string cls in ClassNames(root, split, extensions, what))
        {
            string dir = Path.Combine(SplitFolder(root, split), cls);
            var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                .Where(f => HasExtension(f, extensions) && !Path.GetRelativePath(dir, f).Split(Path.DirectorySeparatorChar).Any(p => p.StartsWith('.')))
                .Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
                throw new InvalidInputException(dir,
                    $"{dir}: class folder '{cls}' holds no {what} ({string.Join(", ", extensions)}); add its files or remove the folder.");
            result.AddRange(files.Select(f => (f, cls)));
        }
        return result;
    }

    /// <summary>
    /// The classes of folder data: the recipe's labels (every class folder must be one of them), else the training
    /// split's class folders. An evaluation split must have the training split's class folders, no more and no fewer.
    /// </summary>
    public static ClassLabels Classes(IDataSettings spec, IReadOnlyList<string> extensions, string what)
    {
        var train = ClassNames(spec.Path, spec.TrainSplit, extensions, what);
        if (spec.Labels is { } names)
        {
            var unknown = train.Where(c => !names.Contains(c)).ToList();
            if (unknown.Count > 0)
                throw new InvalidInputException(Path.Combine(SplitFolder(spec.Path, spec.TrainSplit), unknown[0]),
                    $"{SplitFolder(spec.Path, spec.TrainSplit)}: class folder(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))} are not in data.labels ({string.Join(", ", names)}); add them to data.labels or rename the folders.");
            return ClassLabels.Given(names);
        }
        if (train.Count < 2)
            throw new InvalidInputException(SplitFolder(spec.Path, spec.TrainSplit),
                $"{SplitFolder(spec.Path, spec.TrainSplit)}: only one class folder ('{train[0]}'); a classifier needs at least two classes.");
        return ClassLabels.Collect(train);
    }

    /// <summary>Checks that <paramref name="split"/> has the same class folders as the training split.</summary>
    public static void CheckSameClasses(IDataSettings spec, string split, IReadOnlyList<string> extensions, string what)
    {
        if (split == spec.TrainSplit) return;
        var train = ClassNames(spec.Path, spec.TrainSplit, extensions, what);
        var other = ClassNames(spec.Path, split, extensions, what);
        var missing = train.Except(other, StringComparer.Ordinal).ToList();
        var extra = other.Except(train, StringComparer.Ordinal).ToList();
        if (missing.Count == 0 && extra.Count == 0) return;
        string folder = SplitFolder(spec.Path, split);
        throw new InvalidInputException(folder,
            $"{folder}: the {split} split's classes differ from the {spec.TrainSplit} split's" +
            (missing.Count > 0 ? $"; missing: {string.Join(", ", missing)}" : "") +
            (extra.Count > 0 ? $"; not in {spec.TrainSplit}: {string.Join(", ", extra)}" : "") +
            ". Every split needs the same class folders.");
    }

    private static bool HasExtension(string file, IReadOnlyList<string> extensions) =>
        extensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    private static bool Hidden(string path) => Path.GetFileName(path).StartsWith('.');
}
