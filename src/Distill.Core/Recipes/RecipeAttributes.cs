namespace Distill.Recipes;

/// <summary>Resolves a discriminator value (a loss <c>kind</c>, a stage <c>kind</c>, a model family) to the record type to bind.</summary>
public interface ITypeResolver
{
    /// <summary>The concrete type for <paramref name="key"/>, or null when unknown.</summary>
    Type? Resolve(string key);

    /// <summary>All valid keys, listed in the error for an unknown one.</summary>
    IEnumerable<string> Keys { get; }
}

/// <summary>
/// On an abstract record: the mapping's <paramref name="discriminator"/> key selects the concrete derived record,
/// through <paramref name="resolver"/> (a type with a parameterless constructor implementing <see cref="ITypeResolver"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class PolymorphicAttribute(string discriminator, Type resolver) : Attribute
{
    public string Discriminator { get; } = discriminator;
    public Type Resolver { get; } = resolver;
}

/// <summary>
/// On a property: its type is chosen by the value of a sibling key (for example <c>config</c> by <c>model</c>),
/// through <paramref name="resolver"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class TypeFromSiblingAttribute(string siblingKey, Type resolver) : Attribute
{
    public string SiblingKey { get; } = siblingKey;
    public Type Resolver { get; } = resolver;
}

/// <summary>The key must be present in the YAML mapping.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredKeyAttribute : Attribute;

/// <summary>Inclusive numeric bounds; <c>ExclusiveMinimum</c> makes the lower bound strict.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class BoundsAttribute(double minimum, double maximum) : Attribute
{
    public double Minimum { get; } = minimum;
    public double Maximum { get; } = maximum;
    public bool ExclusiveMinimum { get; init; }
}

/// <summary>The string is a path that must exist (a file, or a folder when <c>Folder</c> is set), resolved relative to the recipe's folder.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ExistingPathAttribute : Attribute
{
    public bool Folder { get; init; }
    public bool FileOrFolder { get; init; }
}
