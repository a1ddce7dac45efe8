using Distill.Models;

namespace Distill.Tests.Families;

/// <summary>A toy config: one hidden layer of <see cref="Hidden"/> neurons over 4 inputs, 2 classes.</summary>
public sealed record ToyConfig : IModelConfig
{
    public int Hidden { get; init; } = 6;

    public IEnumerable<(string Key, string Message)> Validate() => Hidden < 1 ? [("hidden", "must be at least 1")] : [];
}
