namespace Distill.Training;

/// <summary>The optimizer <see cref="OptimizerFactory"/> builds (recipe key <c>train.optimizer</c>).</summary>
public enum OptimizerKind { Adamw, Sgd }
