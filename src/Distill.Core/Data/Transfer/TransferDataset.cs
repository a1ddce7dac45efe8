using Distill.Models;
using TorchSharp;

namespace Distill.Data.Transfer;

/// <summary>
/// The labelled examples of a training split followed by its transfer set (<see cref="TransferSpec"/>): examples
/// beyond <c>train_limit</c>, then augmented variants of the labelled ones. One source dataset, so a batch that mixes
/// them is pre-processed (tokenised, padded) as one; a variant is its example's batch row with words replaced, the
/// same length and mask. Transfer rows get label <see cref="IgnoreLabel"/>, which cross-entropy skips (HF's ignore
/// index); their <see cref="Label"/> is −1 (<see cref="ClassLabels"/>'s "no label"). Every row is a fixed function
/// of the seed and its index, so the teacher cache can store the set.
/// </summary>
public sealed class TransferDataset : IDataset
{
    /// <summary>The label of an unlabelled row in a batch: cross-entropy's ignore index.</summary>
    public const long IgnoreLabel = -100;

    private readonly IDataset _source;
    private readonly int[] _indices;   // row → example of the source
    private readonly int[] _copies;    // row → 0 (the example itself) or its augmented variant 1..copies
    private readonly WordNeighbourAugmenter? _augmenter;
    private readonly double _probability;
    private readonly long _seed;

    private TransferDataset(IDataset source, int[] indices, int[] copies, int labelled, int beyondLimit,
        WordNeighbourAugmenter? augmenter, double probability, long seed)
    {
        _source = source;
        _indices = indices;
        _copies = copies;
        Labelled = labelled;
        BeyondLimit = beyondLimit;
        _augmenter = augmenter;
        _probability = probability;
        _seed = seed;
    }

    /// <summary>Rows 0..<see cref="Labelled"/>−1 are labelled; the rest are the transfer set.</summary>
    public int Labelled { get; }

    /// <summary>Transfer rows that are training examples beyond <c>train_limit</c>.</summary>
    public int BeyondLimit { get; }

    /// <summary>Transfer rows that are augmented variants.</summary>
    public int Augmented => Count - Labelled - BeyondLimit;

    public int Count => _indices.Length;

    public int NumClasses => _source.NumClasses;

    public IReadOnlyList<string> ClassNames => _source.ClassNames;

    public int Label(int index) => index < Labelled ? _source.Label(_indices[index]) : -1;

    /// <summary>
    /// The labelled rows are the first <paramref name="trainLimit"/> examples of the seeded shuffle of
    /// <paramref name="fullTrain"/> (exactly the subset <see cref="SubsetDataset.Limit"/> gives the other stages; all of
    /// them without a limit); then <paramref name="unlabelled"/> examples beyond them; then, with an
    /// <paramref name="augmenter"/>, <see cref="AugmentSpec.Copies"/> variants of each labelled example.
    /// </summary>
    public static TransferDataset Create(IDataset fullTrain, int? trainLimit, long seed, int unlabelled,
        AugmentSpec? augment = null, WordNeighbourAugmenter? augmenter = null)
    {
        if (unlabelled < 0) throw new ArgumentOutOfRangeException(nameof(unlabelled), unlabelled, "Cannot be negative.");
        if ((augment is null) != (augmenter is null)) throw new ArgumentException("augment and augmenter go together.", nameof(augmenter));
        int limit = Math.Min(trainLimit ?? fullTrain.Count, fullTrain.Count);
        if (unlabelled > 0)
        {
            if (trainLimit is null)
                throw new InvalidInputException("distill.transfer",
                    "distill.transfer.unlabelled: these are the training examples beyond data.train_limit, but data.train_limit is not set; " +
                    "set it to the number of labelled examples to train on.");
            if (TooFewBeyondLimit(fullTrain.Count, limit, unlabelled) is { } problem) throw new InvalidInputException("distill.transfer", problem);
        }
        var order = limit < fullTrain.Count ? Shuffle.Permutation(fullTrain.Count, seed, -1) : [.. Enumerable.Range(0, fullTrain.Count)];
        var labelled = order[..limit];
        int copies = augment?.Copies ?? 0;
        var indices = new List<int>(limit * (1 + copies) + unlabelled);
        indices.AddRange(labelled);
        indices.AddRange(order[limit..(limit + unlabelled)]);
        var variant = new List<int>(indices.Count);
        variant.AddRange(Enumerable.Repeat(0, limit + unlabelled));
        for (int c = 1; c <= copies; c++)
        {
            indices.AddRange(labelled);
            variant.AddRange(Enumerable.Repeat(c, limit));
        }
        return new TransferDataset(fullTrain, [.. indices], [.. variant], limit, unlabelled, augmenter, augment?.Probability ?? 0, seed);
    }

    /// <summary>
    /// The error when a training split of <paramref name="trainCount"/> examples, <paramref name="trainLimit"/> of them
    /// labelled, has fewer than <paramref name="unlabelled"/> beyond the limit; null when it has enough. The pre-flight
    /// checks this before a run starts, and <see cref="Create"/> again for direct callers.
    /// </summary>
    public static string? TooFewBeyondLimit(int trainCount, int trainLimit, int unlabelled)
    {
        int limit = Math.Min(trainLimit, trainCount), beyond = trainCount - limit;
        return unlabelled <= beyond ? null :
            $"distill.transfer.unlabelled: {unlabelled} unlabelled examples asked for, but the training split has {trainCount} examples and " +
            $"data.train_limit keeps {limit} of them labelled, which leaves {beyond}; lower distill.transfer.unlabelled to at most {beyond}.";
    }

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        var mapped = new int[indices.Length];
        var unlabelled = new List<long>();
        bool augmented = false;
        for (int i = 0; i < mapped.Length; i++)
        {
            mapped[i] = _indices[indices[i]];
            if (indices[i] >= Labelled) unlabelled.Add(i);
            augmented |= _copies[indices[i]] > 0;
        }
        var batch = _source.GetBatch(mapped);
        if (unlabelled.Count == 0) return batch;
        var inputs = new Dictionary<string, torch.Tensor>(batch.Inputs);
        if (augmented) inputs["input_ids"] = Augment(batch, indices);
        var labels = batch.Labels;
        if (labels is not null)
        {
            labels = labels.clone();
            labels.index_fill_(0, torch.tensor(unlabelled.ToArray()), IgnoreLabel);
        }
        return new Batch(inputs, labels);
    }

    /// <summary>input_ids (B, T) with the variant rows' words replaced; each row's draws seeded by (seed, example, variant).</summary>
    private torch.Tensor Augment(Batch batch, ReadOnlySpan<int> rows)
    {
        var ids = batch["input_ids"];
        if (ids.dim() != 2) throw new InvalidOperationException($"Augmentation replaces words of (B, T) input_ids; the batch's are {string.Join("×", ids.shape)}.");
        int t = (int)ids.shape[1];
        var values = ids.cpu().to(torch.ScalarType.Int64).data<long>().ToArray();
        var lengths = batch.Optional("attention_mask") is { } mask
            ? mask.cpu().to(torch.ScalarType.Int64).sum(1).data<long>().ToArray()
            : [.. Enumerable.Repeat((long)t, rows.Length)];
        for (int b = 0; b < rows.Length; b++)
        {
            int copy = _copies[rows[b]];
            if (copy == 0) continue;
            var rng = new Random(Seed(_seed, _indices[rows[b]], copy));
            var row = _augmenter!.Augment(values.AsSpan(b * t, t), (int)lengths[b], _probability, rng);
            row.CopyTo(values.AsSpan(b * t, t));
        }
        return torch.tensor(values, ids.shape).to(ids.dtype);
    }

    /// <summary>A 32-bit seed from (seed, example, variant), the same in every process (SplitMix64 finaliser).</summary>
    private static int Seed(long seed, int example, int copy)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)example * 0xBF58476D1CE4E5B9UL + (ulong)copy * 0x94D049BB133111EBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return unchecked((int)(z ^ (z >> 31)));
    }
}
