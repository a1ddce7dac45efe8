namespace Distill.Schema;

/// <summary>Inclusive numeric bounds; <c>ExclusiveMinimum</c> makes the lower bound strict.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class BoundsAttribute(double minimum, double maximum) : Attribute
{
    public double Minimum { get; } = minimum;
    public double Maximum { get; } = maximum;
    public bool ExclusiveMinimum { get; init; }
}
