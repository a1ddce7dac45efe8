namespace Distill.Schema;

/// <summary>The key must be present in the YAML mapping.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredKeyAttribute : Attribute;
