namespace Distill.Models.Init;

/// <summary>The families a student can be initialised from its teacher in (<c>student.init_from_teacher</c>).</summary>
public sealed class StudentInitRegistry
{
    private readonly Dictionary<string, StudentInitRules> _rules = new(StringComparer.Ordinal);

    /// <summary>BERT and ViT.</summary>
    public static StudentInitRegistry Default { get; } = CreateDefault();

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

    private static StudentInitRegistry CreateDefault()
    {
        var r = new StudentInitRegistry();
        r.Register(new BertInitRules());
        r.Register(new ViTInitRules());
        return r;
    }
}
