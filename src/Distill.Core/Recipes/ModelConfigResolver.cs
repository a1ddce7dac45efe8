using Distill.Models;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>Resolves <c>model:</c> keys to the family's config record type through <see cref="ModelRegistry.Default"/>.</summary>
public sealed class ModelConfigResolver : ITypeResolver
{
    public Type? Resolve(string key) => ModelRegistry.Default.TryGet(key, out var f) ? f.ConfigType : null;
    public IEnumerable<string> Keys => ModelRegistry.Default.Keys.Order();
}
