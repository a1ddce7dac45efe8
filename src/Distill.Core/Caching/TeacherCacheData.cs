namespace Distill.Caching;

/// <summary>What identifies a cache's training data and pre-processing (hashed into <see cref="TeacherCacheKey"/>), given
/// by the caller from its recipe.</summary>
/// <param name="Dataset">The dataset kind key.</param>
/// <param name="Path">The data folder (its files are hashed).</param>
/// <param name="Split">The training split.</param>
/// <param name="TrainLimit">The subset size the training split was cut to; null = all of it.</param>
/// <param name="LimitSeed">The seed that subset was drawn with.</param>
/// <param name="PreprocessingJson">The pre-processing settings as JSON.</param>
/// <param name="MaxLength">Text: the token limit.</param>
/// <param name="Tokenizer">Text: the tokenizer folder (its files are hashed); null = none.</param>
public sealed record TeacherCacheData(string Dataset, string Path, string Split, int? TrainLimit, long LimitSeed, string PreprocessingJson, int MaxLength, string? Tokenizer)
{
    /// <summary>The transfer set added to the training examples (its settings as JSON); null = none.</summary>
    public string? Transfer { get; init; }
}
