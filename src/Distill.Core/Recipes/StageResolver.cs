using Distill.Schema;

namespace Distill.Recipes;

/// <summary>Resolves <c>kind:</c> of a stage to its spec record through <see cref="StageSpecRegistry.Default"/>.</summary>
public sealed class StageResolver : ITypeResolver
{
    public Type? Resolve(string key) => StageSpecRegistry.Default.TryGet(key, out var t) ? t : null;
    public IEnumerable<string> Keys => StageSpecRegistry.Default.Keys.Order();
}
