using Distill.Recipes;

namespace Distill.Stages;

/// <summary>A registered stage kind: its key, spec record type (from <see cref="StageSpecRegistry"/>) and how to run it.</summary>
public sealed record StageKind(string Key, Type SpecType, Func<StageSpec, IStage> Create);
