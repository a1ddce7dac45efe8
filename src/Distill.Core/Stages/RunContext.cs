namespace Distill.Stages;

/// <summary>State shared by the stages of one run. Filled in by the runner.</summary>
public sealed class RunContext
{
}
