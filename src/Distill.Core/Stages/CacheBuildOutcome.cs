namespace Distill.Stages;

/// <summary>What <c>distill cache build</c> did: the folder written (the cache, or one shard of it), whether the teacher ran
/// (false: the cache was reused), and for a whole cache its examples and the build's examples/s.</summary>
public sealed record CacheBuildOutcome(string Folder, bool Built, int? Examples, double? ExamplesPerSecond);
