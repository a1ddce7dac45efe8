using Xunit;

namespace Distill.Tests;

/// <summary>
/// Tests that change process-wide state run here, alone (xunit runs a collection with parallelization disabled after
/// the parallel ones, with nothing beside it): the recipe validator, the design stage and <c>distill export</c> switch
/// torch's default device to meta while they build models (a tensor another test created meanwhile would land there);
/// CLI tests redirect the console; latency profiling sets torch's thread count; latency measurements need the CPU to
/// themselves; and the generator parity checks draw from torch's global generator by design.
/// Randomness is not a reason to be here: models are initialised from seeded generators (<c>ParamInit.Build</c>),
/// training draws from the session's generator, and tests pass their own generators to torch.rand* — so a test gets
/// the same numbers whatever runs beside it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "process-wide torch state";
}
