namespace Distill.Schema;

/// <summary>Resolves a discriminator value (a loss <c>kind</c>, a stage <c>kind</c>, a model family) to the record type to bind.</summary>
public interface ITypeResolver
{
    /// <summary>The concrete type for <paramref name="key"/>, or null when unknown.</summary>
    Type? Resolve(string key);

    /// <summary>All valid keys, listed in the error for an unknown one.</summary>
    IEnumerable<string> Keys { get; }
}
