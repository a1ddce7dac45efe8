using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>A bindable property of a recipe record: its YAML key, type, nullability and recipe attributes.</summary>
internal sealed record RecipeProperty(
    string Key,
    PropertyInfo Info,
    bool Nullable,
    bool Required,
    BoundsAttribute? Bounds,
    ExistingPathAttribute? ExistingPath,
    TypeFromSiblingAttribute? TypeFromSibling)
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<RecipeProperty>> Cache = new();

    public Type Type => Info.PropertyType;

    /// <summary>
    /// The settable public properties of <paramref name="type"/>, base-class members first. The key is the
    /// <c>[JsonPropertyName]</c> when present, else the snake_case of the property name.
    /// </summary>
    public static IReadOnlyList<RecipeProperty> Of(Type type) => Cache.GetOrAdd(type, Compute);

    /// <summary>snake_case of a .NET member name (<c>WarmupSteps</c> → <c>warmup_steps</c>).</summary>
    public static string SnakeCase(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    private static IReadOnlyList<RecipeProperty> Compute(Type type)
    {
        var chain = new List<Type>();
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType) chain.Add(t);
        chain.Reverse();
        var nullability = new NullabilityInfoContext();
        var result = new List<RecipeProperty>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in chain)
            foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                if (p.SetMethod is not { IsPublic: true } || p.GetIndexParameters().Length > 0) continue;
                if (p.GetCustomAttribute<JsonIgnoreAttribute>() is not null) continue;
                string key = p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? SnakeCase(p.Name);
                if (!seen.Add(key)) continue;
                bool nullable = !p.PropertyType.IsValueType
                    ? nullability.Create(p).WriteState == NullabilityState.Nullable
                    : System.Nullable.GetUnderlyingType(p.PropertyType) is not null;
                result.Add(new RecipeProperty(key, p, nullable,
                    p.GetCustomAttribute<RequiredKeyAttribute>() is not null,
                    p.GetCustomAttribute<BoundsAttribute>(),
                    p.GetCustomAttribute<ExistingPathAttribute>(),
                    p.GetCustomAttribute<TypeFromSiblingAttribute>()));
            }
        return result;
    }
}
