using Distill.Models;

namespace Distill.Data;

/// <summary>A view of chosen examples of another dataset (for <c>train_limit</c> / <c>eval_limit</c>).</summary>
public sealed class SubsetDataset(IDataset source, int[] indices) : IDataset
{
    public int Count => indices.Length;

    public int NumClasses => source.NumClasses;

    public IReadOnlyList<string> ClassNames => source.ClassNames;

    public int Label(int index) => source.Label(indices[index]);

    public Text.CtcVocabulary? Vocabulary => source.Vocabulary;

    public string Transcript(int index) => source.Transcript(indices[index]);

    public Batch GetBatch(ReadOnlySpan<int> batchIndices)
    {
        var mapped = new int[batchIndices.Length];
        for (int i = 0; i < mapped.Length; i++) mapped[i] = indices[batchIndices[i]];
        return source.GetBatch(mapped);
    }

    /// <summary>The first <paramref name="limit"/> examples of a seeded shuffle of <paramref name="source"/>, or the source itself when no limit applies.</summary>
    public static IDataset Limit(IDataset source, int? limit, long seed)
    {
        if (limit is not { } n || n >= source.Count) return source;
        var order = Shuffle.Permutation(source.Count, seed, -1);
        return new SubsetDataset(source, order[..n]);
    }
}
