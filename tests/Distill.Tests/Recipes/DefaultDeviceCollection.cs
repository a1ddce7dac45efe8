using Xunit;

namespace Distill.Tests.Recipes;

/// <summary>
/// The validator switches torch's process-wide default device to meta while it builds models, so its tests run alone
/// (no other test may create tensors meanwhile). Any test that calls <c>RecipeValidator</c> or <c>RecipeValidation</c> joins it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DefaultDeviceCollection
{
    public const string Name = "torch default device";
}

