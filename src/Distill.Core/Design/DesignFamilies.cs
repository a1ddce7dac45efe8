namespace Distill.Design;

/// <summary>The families a <c>design</c> stage can search: cnn, bert, vit and wav2vec2.</summary>
public static class DesignFamilies
{
    private static readonly Dictionary<string, DesignFamily> ByKey = new DesignFamily[]
    {
        new CnnDesign(), new BertDesign(), new VitDesign(), new Wav2Vec2Design(),
    }.ToDictionary(f => f.Family, StringComparer.Ordinal);

    public static IReadOnlyCollection<string> Keys => ByKey.Keys;

    public static bool TryGet(string family, out DesignFamily design) => ByKey.TryGetValue(family, out design!);

    public static DesignFamily Get(string family) => TryGet(family, out var d)
        ? d
        : throw new KeyNotFoundException($"The design stage cannot search the '{family}' family; it supports {string.Join(", ", ByKey.Keys.Order())}.");
}
