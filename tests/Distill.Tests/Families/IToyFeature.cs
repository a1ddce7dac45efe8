namespace Distill.Tests.Families;

/// <summary>A feature defined outside the family (as ONNX export would be), which a descriptor opts into by implementing it.</summary>
public interface IToyFeature
{
    string Greeting { get; }
}
