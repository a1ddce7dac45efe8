namespace Distill.Schema;

/// <summary>The string is a path that must exist (a file, or a folder when <c>Folder</c> is set), resolved relative to the recipe's folder.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ExistingPathAttribute : Attribute
{
    public bool Folder { get; init; }
    public bool FileOrFolder { get; init; }
}
