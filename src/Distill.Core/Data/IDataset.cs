using Distill.Models;

namespace Distill.Data;

/// <summary>An indexable split of a dataset that builds pre-processed batches.</summary>
public interface IDataset
{
    int Count { get; }

    int NumClasses { get; }

    /// <summary>The name of each class in label order (for reports, <c>distill eval</c> and <c>distill predict</c>); the label ids when the data has no names.</summary>
    IReadOnlyList<string> ClassNames => [.. Enumerable.Range(0, NumClasses).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Label of example <paramref name="index"/> (used for metrics and class-balanced subsets).</summary>
    int Label(int index);

    /// <summary>
    /// Transcript data (CTC): the character vocabulary the labels are encoded with; null for classification data.
    /// Batches of such data carry labels (B, S) int64, the token ids of each transcript padded with −100.
    /// </summary>
    Text.CtcVocabulary? Vocabulary => null;

    /// <summary>Transcript data: the transcript of example <paramref name="index"/> (normalised, as WER reads it).</summary>
    string Transcript(int index) => throw new NotSupportedException("This dataset holds class labels, not transcripts.");

    /// <summary>A batch of the given examples, pre-processed, on CPU.</summary>
    Batch GetBatch(ReadOnlySpan<int> indices);
}
