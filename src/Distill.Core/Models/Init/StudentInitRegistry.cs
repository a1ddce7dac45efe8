namespace Distill.Models.Init;

/// <summary>The families a student can be initialised from its teacher in (<c>student.init_from_teacher</c>): a view of the
/// family descriptors' <see cref="ModelFamily.InitRules"/>.</summary>
public sealed class StudentInitRegistry
{
    private readonly Dictionary<string, StudentInitRules> _rules = new(StringComparer.Ordinal);

    /// <summary>The rules of every family in <see cref="ModelRegistry.Default"/> that has them (BERT and ViT).</summary>
    public static StudentInitRegistry Default { get; } = From(ModelRegistry.Default);

    /// <summary>Supported family keys, sorted.</summary>
    public IReadOnlyList<string> Families => _rules.Keys.Order(StringComparer.Ordinal).ToList();

    public void Register(StudentInitRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (!_rules.TryAdd(rules.Family, rules))
            throw new InvalidOperationException($"Student-init rules for '{rules.Family}' are registered twice.");
    }

    public bool TryGet(string family, out StudentInitRules rules) => _rules.TryGetValue(family, out rules!);

    /// <summary>The rules of <paramref name="family"/>; unknown families throw listing the supported ones.</summary>
    public StudentInitRules Get(string family) => TryGet(family, out var r)
        ? r
        : throw new ArgumentException($"init_from_teacher is not available for '{family}' models (supported: {string.Join(", ", Families)}).");

    /// <summary>The rules of every family of <paramref name="models"/> that has them (<see cref="ModelFamily.InitRules"/>).</summary>
    public static StudentInitRegistry From(ModelRegistry models)
    {
        ArgumentNullException.ThrowIfNull(models);
        var r = new StudentInitRegistry();
        foreach (var family in models.Families)
        {
            if (family.InitRules is not { } rules) continue;
            if (rules.Family != family.Key)
                throw new InvalidOperationException($"Model family '{family.Key}' declares init rules for '{rules.Family}'; the keys must agree.");
            r.Register(rules);
        }
        return r;
    }
}
