using Distill.Schema;

namespace Distill.Caching;

/// <summary>
/// <c>distill.cache</c>: run the frozen teacher once over the training set, store what the loss terms read (logits or
/// their top-k, tapped features, hidden states, attention maps) on disk, and memory-map it during training instead of
/// running the teacher every step. The cache is rebuilt when the teacher weights, the data or the pre-processing change
/// (SHA-256 of each, stored in <c>manifest.json</c>). It needs deterministic batches: data augmentation is refused.
/// </summary>
public sealed record TeacherCacheSpec
{
    /// <summary>On-disk encoding of the cached values.</summary>
    public CacheEncoding Encoding { get; init; } = CacheEncoding.Fp16;

    /// <summary>
    /// Store only the k largest teacher logits per example (plus one "tail" logit: the log of the mean of exp over the
    /// other classes, so the tail's total probability at T = 1 is exact). Null = all logits.
    /// </summary>
    [Bounds(1, int.MaxValue)] public int? TopK { get; init; }

    /// <summary>Cache folder, relative to the recipe file; null = <c>&lt;run&gt;/teacher_cache</c>. A folder shared by
    /// several runs is reused while its hashes match.</summary>
    public string? Dir { get; init; }

    /// <summary>Examples per teacher forward pass while building (similar lengths together, windows of 16 batches);
    /// null = <c>data.eval_batch_size</c> up to 64.</summary>
    [Bounds(1, 65536)] public int? BatchSize { get; init; }
}
