namespace Distill.Data;

/// <summary>A registered dataset: what inputs it yields (known without reading the data), its checks and how to open a split.</summary>
/// <param name="Key">Recipe key (<c>data.dataset</c>).</param>
/// <param name="Splits">Valid split names; empty when any name is valid (the folder and table kinds).</param>
/// <param name="Inputs">The inputs a batch holds, for the recipe's data section (no example is read).</param>
/// <param name="Validate">Checks of the data section: files present, pre-processing consistent; each (key, message).</param>
/// <param name="Open">Opens a split; <see cref="IDataSettings.Path"/> is already absolute.</param>
/// <param name="Description">One line for help and error messages.</param>
public sealed record DatasetKind(
    string Key,
    IReadOnlyList<string> Splits,
    Func<IDataSettings, IReadOnlyList<InputSpec>> Inputs,
    Func<IDataSettings, IEnumerable<(string Key, string Message)>> Validate,
    Func<IDataSettings, string, IDataset> Open,
    string Description)
{
    /// <summary>
    /// The class names in label order, found without opening a split (a fixed list, the recipe's <c>labels</c>, the
    /// class folders of the training split, or the label column of the training file); null when the kind cannot say.
    /// Sizes models whose config leaves <c>num_labels</c> out. Throws <see cref="InvalidInputException"/> on bad data.
    /// </summary>
    public Func<IDataSettings, IReadOnlyList<string>>? ClassNames { get; init; }

    /// <summary>
    /// Opens unlabelled inputs for <c>distill predict</c> (a file or a folder, as the kind reads them) with the given
    /// class names; each example's description (its file, or its line and text) in order. Null when the kind cannot.
    /// </summary>
    public Func<IDataSettings, string, IReadOnlyList<string>, (IDataset Data, IReadOnlyList<string> Inputs)>? OpenInputs { get; init; }

    /// <summary>
    /// Transcript kinds (CTC): the character vocabulary of the labels, found without opening a split (<c>data.vocab</c>,
    /// or built from the training transcripts); null for classification kinds. Throws <see cref="InvalidInputException"/> on bad data.
    /// </summary>
    public Func<IDataSettings, Text.CtcVocabulary>? Vocabulary { get; init; }

    /// <summary>The optional data keys this kind reads among those added for the table and folder kinds (others are refused when given).</summary>
    public IReadOnlySet<string> Reads { get; init; } = new HashSet<string>();
}
