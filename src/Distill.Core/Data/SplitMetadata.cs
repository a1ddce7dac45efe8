using Distill.Data.TextClassification;

namespace Distill.Data;

/// <summary>
/// A split listed in <c>&lt;path&gt;/&lt;split&gt;/metadata.csv</c> rather than laid out in class folders (HF's
/// imagefolder/audiofolder convention): a <c>file_name</c> column, relative to the split folder (<c>../</c> may leave it,
/// so a split can list files kept elsewhere), and the label in <c>label_column</c>. Examples keep the file's row order.
/// When the training split has a metadata.csv, every split must have one.
/// </summary>
public static class SplitMetadata
{
    /// <summary>The metadata file of a split, as HF names it.</summary>
    public const string FileName = "metadata.csv";

    /// <summary>The split's metadata.csv, or null when it has none.</summary>
    public static string? Find(IDataSettings spec, string split)
    {
        string file = Path.Combine(ClassFolders.SplitFolder(spec.Path, split), FileName);
        return File.Exists(file) ? file : null;
    }

    /// <summary>The classes of metadata data: the recipe's labels, else the training split's labels (sorted).</summary>
    public static ClassLabels Classes(IDataSettings spec, string trainMetadata)
    {
        if (spec.Labels is { } names) return ClassLabels.Given(names);
        var labels = ClassLabels.Collect(TextTable.ReadLabels(trainMetadata, spec.LabelColumn));
        if (labels.Count < 2)
            throw new InvalidInputException(trainMetadata, $"{trainMetadata}: every row has the label '{labels.Names[0]}'; a classifier needs at least two classes.");
        return labels;
    }

    /// <summary>The files and class ids a split's metadata.csv lists, in row order (errors name the file and line).</summary>
    public static IReadOnlyList<(string File, int Label)> Files(IDataSettings spec, string metadata, ClassLabels classes, IReadOnlyList<string> extensions)
    {
        string folder = Path.GetDirectoryName(metadata)!;
        var result = new List<(string, int)>();
        foreach (var row in TextTable.Read(metadata, "file_name", null, spec.LabelColumn, "file_name"))
        {
            string file = Path.GetFullPath(Path.Combine(folder, row.Text));
            if (row.Text.Length == 0 || !File.Exists(file))
                throw new InvalidInputException(metadata, $"{metadata}:{row.Line}: file '{row.Text}' does not exist (file_name is relative to {folder}); fix the row or add the file.");
            if (!extensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                throw new InvalidInputException(metadata, $"{metadata}:{row.Line}: file '{row.Text}' is not one of {string.Join(", ", extensions)}; list only such files.");
            if (!classes.TryGetId(row.Label!, out int id))
                throw new InvalidInputException(metadata, $"{metadata}:{row.Line}: label '{row.Label}' is not a class: {classes.Describe()}. Fix the row, or add the class to data.labels.");
            result.Add((file, id));
        }
        return result;
    }

    /// <summary>Refuses a split without metadata.csv when the training split has one (the two layouts are not mixed).</summary>
    public static void CheckConsistent(IDataSettings spec, string split)
    {
        if (Find(spec, spec.TrainSplit) is { } trainMetadata)
            throw new InvalidInputException(ClassFolders.SplitFolder(spec.Path, split),
                $"{ClassFolders.SplitFolder(spec.Path, split)}: has no {FileName}, but the {spec.TrainSplit} split is listed in {trainMetadata}; give every split a {FileName}.");
    }
}
