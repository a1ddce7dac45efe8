namespace Distill.Caching;

/// <summary>
/// How a teacher cache is built. The examples are taken in windows of <see cref="WindowExamples"/> consecutive indices;
/// within a window they are sorted by token count (<see cref="LengthBuckets"/>, text only) and run through the teacher
/// in batches of <see cref="BatchSize"/> similar lengths, each padded to its own longest example; the window's records
/// are then written in example order, so the files do not depend on the order the teacher saw the examples in. Memory
/// holds one batch's activations and one window's encoded records. Windows are fixed by index, so a shard
/// (<see cref="CacheShard"/>: whole windows) runs exactly the batches a single build runs.
/// </summary>
/// <param name="BatchSize">Examples per teacher forward pass.</param>
public sealed record CacheBuildSettings(int BatchSize)
{
    /// <summary>The build batch when neither <c>distill.cache.batch_size</c> nor a smaller <c>data.eval_batch_size</c> is given.</summary>
    public const int DefaultBatchSize = 64;

    /// <summary>Batches per window.</summary>
    public int WindowBatches { get; init; } = 16;

    /// <summary>Sort each window by token count (text batches with an attention mask); false = batches in index order.</summary>
    public bool LengthBuckets { get; init; } = true;

    /// <summary>Where the progress lines go (examples done, examples/s, ETA); null = none.</summary>
    public TextWriter? Progress { get; init; }

    /// <summary>Seconds between progress lines (the last one is always written).</summary>
    public double ProgressSeconds { get; init; } = 10;

    public int WindowExamples => checked(BatchSize * WindowBatches);
}
