using Distill.Models;

namespace Distill.Stages.Results;

/// <summary>A model a <see cref="ModelFactory"/> built and what building it recorded.</summary>
public sealed record BuiltModel(DistillModel Model, ModelBuildReport Report);
