namespace Distill.Caching;

/// <summary>
/// The check point for data augmentation. A dataset whose batches apply random transformations (crops, flips, noise,
/// masking) must implement this and return a description while augmentation is on: the teacher-output cache stores one
/// teacher output per example and refuses such a dataset. Datasets that do not implement it are still checked by reading
/// the same examples twice (<see cref="TeacherCache.EnsureDeterministic"/>).
/// </summary>
public interface IAugmentingDataset
{
    /// <summary>A short description of the active augmentation ("random crop 32, horizontal flip"), or null when off.</summary>
    string? Augmentation { get; }
}
