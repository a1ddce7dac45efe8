namespace Distill.Hf;

/// <summary>What <see cref="HfExporter.Export"/> wrote: the folder, the tensor keys saved, the keys left out (projectors,
/// hint modules) and every file name in the folder.</summary>
public sealed record HfExportResult(string OutDir, IReadOnlyList<string> Keys, IReadOnlyList<string> DroppedKeys, IReadOnlyList<string> Files);
