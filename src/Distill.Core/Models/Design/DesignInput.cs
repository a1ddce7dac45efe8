using static TorchSharp.torch;

namespace Distill.Models.Design;

/// <summary>One tensor of a synthetic deployment batch: its name, full shape (batch first) and dtype.</summary>
public sealed record DesignInput(string Name, long[] Shape, ScalarType DType)
{
    public override string ToString() => $"{Name} {string.Join("x", Shape)} {DType}";
}
