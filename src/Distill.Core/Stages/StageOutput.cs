using Distill.Models;
using Distill.Stages.Results;

namespace Distill.Stages;

/// <summary>What a stage hands back: its summary entry, the model it produced in the role of <see cref="IStage.Produces"/>
/// (null for a stage that produces none), and — from a design stage — the pick later stages build as their student.</summary>
public sealed record StageOutput(StageResult Result, DistillModel? Model, DesignedStudent? Designed = null);
