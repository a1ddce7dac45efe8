using Distill.Recipes;

namespace Distill.Data;

/// <summary>A registered dataset: what inputs it yields (known without reading the data), its checks and how to open a split.</summary>
/// <param name="Key">Recipe key (<c>data.dataset</c>).</param>
/// <param name="Splits">Valid split names.</param>
/// <param name="Inputs">The inputs a batch holds, for the recipe's data section (no file is read).</param>
/// <param name="Validate">Checks of the data section: files present, pre-processing consistent; each (key, message).</param>
/// <param name="Open">Opens a split; <see cref="DataSpec.Path"/> is already absolute.</param>
/// <param name="Description">One line for help and error messages.</param>
public sealed record DatasetKind(
    string Key,
    IReadOnlyList<string> Splits,
    Func<DataSpec, IReadOnlyList<InputSpec>> Inputs,
    Func<DataSpec, IEnumerable<(string Key, string Message)>> Validate,
    Func<DataSpec, string, IDataset> Open,
    string Description);
