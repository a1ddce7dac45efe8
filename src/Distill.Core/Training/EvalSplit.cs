using Distill.Data;

namespace Distill.Training;

/// <summary>One evaluated split: its name (as in the recipe) and its examples.</summary>
public sealed record EvalSplit(string Name, IDataset Data);
