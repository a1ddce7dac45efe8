using Distill.Schema;

namespace Distill.Losses;

/// <summary>Resolves <c>kind:</c> of a loss term to its spec record through <see cref="LossRegistry.Default"/>.</summary>
public sealed class LossTermResolver : ITypeResolver
{
    public Type? Resolve(string key) => LossRegistry.Default.TryGet(key, out var k) ? k.SpecType : null;
    public IEnumerable<string> Keys => LossRegistry.Default.Keys.Order();
}
