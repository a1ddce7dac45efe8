using Xunit;

namespace Distill.Tests;

/// <summary>
/// Tests that touch torch's process-wide state run here, alone (xunit runs a collection with parallelization disabled
/// after the parallel ones, with nothing beside it): the validator switches the default device to meta while it builds
/// models, and tests that compare two runs step by step need the global random generator to themselves (another test
/// drawing from it in between would change their initialisations). Console redirection (CLI tests) is process-wide too.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "process-wide torch state";
}
