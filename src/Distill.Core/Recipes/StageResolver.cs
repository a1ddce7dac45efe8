using Distill.Schema;
using Distill.Stages;

namespace Distill.Recipes;

/// <summary>Resolves <c>kind:</c> of a stage to its spec record through <see cref="StageRegistry.Default"/>.</summary>
public sealed class StageResolver : ITypeResolver
{
    public Type? Resolve(string key) => StageRegistry.Default.TryGet(key, out var k) ? k.SpecType : null;
    public IEnumerable<string> Keys => StageRegistry.Default.Keys.Order();
}
