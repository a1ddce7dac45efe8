namespace Distill.Losses;

/// <summary>A registered loss kind: its spec record type and its factory.</summary>
public sealed record LossKind(string Key, Type SpecType, Func<LossTermSpec, LossBuildContext, ILossTerm> Create, string Description);
