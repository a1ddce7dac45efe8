using Distill.Recipes;

namespace Distill.Stages;

/// <summary>A registered stage kind: its spec record type and how to run it.</summary>
public sealed record StageKind(string Key, Type SpecType, Func<StageSpec, IStage> Create, string Description);
