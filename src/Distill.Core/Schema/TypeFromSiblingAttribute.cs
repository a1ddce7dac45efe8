namespace Distill.Schema;

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
