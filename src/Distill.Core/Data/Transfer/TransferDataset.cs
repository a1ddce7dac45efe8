using Distill.Models;
using TorchSharp;

namespace Distill.Data.Transfer;

/// <summary>
/// The labelled examples of a training split followed by unlabelled ones from the same split: one dataset, so a batch
/// that mixes both is pre-processed (tokenised, padded) as one. Unlabelled rows get label <see cref="IgnoreLabel"/>,
/// which cross-entropy skips (HF's ignore index); their <see cref="Label"/> is −1 (<see cref="ClassLabels"/>'s "no label").
/// </summary>
public sealed class TransferDataset : IDataset
{
    /// <summary>The label of an unlabelled row in a batch: cross-entropy's ignore index.</summary>
    public const long IgnoreLabel = -100;

    private readonly IDataset _source;
    private readonly int[] _indices;

    private TransferDataset(IDataset source, int[] labelled, int[] unlabelled)
    {
        _source = source;
        _indices = [.. labelled, .. unlabelled];
        Labelled = labelled.Length;
    }

    /// <summary>Examples 0..<see cref="Labelled"/>−1 are labelled; the rest are the transfer set.</summary>
    public int Labelled { get; }

    public int Unlabelled => _indices.Length - Labelled;

    public int Count => _indices.Length;

    public int NumClasses => _source.NumClasses;

    public IReadOnlyList<string> ClassNames => _source.ClassNames;

    public int Label(int index) => index < Labelled ? _source.Label(_indices[index]) : -1;

    /// <summary>
    /// The first <paramref name="trainLimit"/> examples of the seeded shuffle of <paramref name="fullTrain"/> (exactly
    /// the subset <see cref="SubsetDataset.Limit"/> gives the other stages), then the next <paramref name="unlabelled"/>
    /// ones without labels.
    /// </summary>
    public static TransferDataset BeyondLimit(IDataset fullTrain, int? trainLimit, int unlabelled, long seed)
    {
        if (trainLimit is not { } limit)
            throw new InvalidInputException("distill.transfer",
                "distill.transfer.unlabelled: the transfer set is the training examples beyond data.train_limit, but data.train_limit is not set; " +
                "set it to the number of labelled examples to train on.");
        if (unlabelled < 1) throw new ArgumentOutOfRangeException(nameof(unlabelled), unlabelled, "At least one unlabelled example.");
        int beyond = Math.Max(0, fullTrain.Count - limit);
        if (unlabelled > beyond)
            throw new InvalidInputException("distill.transfer",
                $"distill.transfer.unlabelled: {unlabelled} unlabelled examples asked for, but the training split has {fullTrain.Count} examples and " +
                $"data.train_limit keeps {limit} of them labelled, which leaves {beyond}; lower distill.transfer.unlabelled to at most {beyond}.");
        var order = Training.Trainer.Permutation(fullTrain.Count, seed, -1);
        return new TransferDataset(fullTrain, order[..limit], order[limit..(limit + unlabelled)]);
    }

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        var mapped = new int[indices.Length];
        var unlabelled = new List<long>();
        for (int i = 0; i < mapped.Length; i++)
        {
            mapped[i] = _indices[indices[i]];
            if (indices[i] >= Labelled) unlabelled.Add(i);
        }
        var batch = _source.GetBatch(mapped);
        if (unlabelled.Count == 0 || batch.Labels is not { } labels) return batch;
        var masked = labels.clone();
        masked.index_fill_(0, torch.tensor(unlabelled.ToArray()), IgnoreLabel);
        return new Batch(batch.Inputs, masked);
    }
}
