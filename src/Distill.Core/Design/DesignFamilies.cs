using Distill.Models;
using Distill.Models.Design;

namespace Distill.Design;

/// <summary>The families a <c>design</c> stage can search: those whose descriptor has a design space
/// (<see cref="ModelFamily.Design"/>; cnn, bert, vit and wav2vec2).</summary>
public static class DesignFamilies
{
    private static IReadOnlyDictionary<string, DesignFamily> ByKey(ModelRegistry? registry) =>
        (registry ?? ModelRegistry.Default).Families.Where(f => f.Design is not null).ToDictionary(f => f.Key, f => f.Design!, StringComparer.Ordinal);

    public static IReadOnlyCollection<string> Keys => ByKey(null).Keys.ToList();

    public static bool TryGet(string family, out DesignFamily design, ModelRegistry? registry = null) => ByKey(registry).TryGetValue(family, out design!);

    public static DesignFamily Get(string family, ModelRegistry? registry = null) => TryGet(family, out var d, registry)
        ? d
        : throw new KeyNotFoundException($"The design stage cannot search the '{family}' family; it supports {string.Join(", ", ByKey(registry).Keys.Order())}.");
}
