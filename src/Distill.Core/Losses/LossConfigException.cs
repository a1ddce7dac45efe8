namespace Distill.Losses;

/// <summary>A loss term cannot be built for this teacher/student pair (unknown module path, shapes that cannot be projected...).
/// Recipe validation reports it at the term's place in the file.</summary>
public sealed class LossConfigException(string key, string message) : Exception(message)
{
    /// <summary>The spec key at fault (for example <c>student</c> or <c>layers</c>), relative to the term.</summary>
    public string Key { get; } = key;
}
