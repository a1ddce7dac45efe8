namespace Distill.Hf;

/// <summary>Where a HF folder's weights are: the format and the file (for sharded checkpoints, the index file).</summary>
public sealed record HfWeights(HfWeightsFormat Format, string Path);
