using Distill.Models;

namespace Distill.Data;

/// <summary>An indexable split of a dataset that builds pre-processed batches.</summary>
public interface IDataset
{
    int Count { get; }

    int NumClasses { get; }

    /// <summary>Label of example <paramref name="index"/> (used for metrics and class-balanced subsets).</summary>
    int Label(int index);

    /// <summary>A batch of the given examples, pre-processed, on CPU.</summary>
    Batch GetBatch(ReadOnlySpan<int> indices);
}
