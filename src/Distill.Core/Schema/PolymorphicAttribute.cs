namespace Distill.Schema;

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
