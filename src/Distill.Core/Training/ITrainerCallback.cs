namespace Distill.Training;

/// <summary>Hooks on the training loop: TensorBoard, checkpoints and progress display are callbacks, not trainer flags.</summary>
public interface ITrainerCallback
{
    void OnStageStart(TrainingSession session) { }

    /// <summary>After backward and gradient clipping, right before the optimizer step (<see cref="TrainingSession.Step"/> does
    /// not count it yet); the step's loss has passed the guards. Quantization-aware training swaps latent weights back in here.</summary>
    void OnBeforeOptimizerStep(TrainingSession session) { }

    /// <summary>Right after each optimizer step (<see cref="TrainingSession.Step"/> already counts it), before that step's
    /// evaluation, checkpoint and <see cref="OnStep"/>: constraints on the weights (pruning masks) are enforced here.</summary>
    void OnAfterOptimizerStep(TrainingSession session) { }

    void OnStep(TrainingSession session, StepInfo step) { }

    void OnEval(TrainingSession session, EvalInfo eval) { }

    /// <summary>The loop finished (not called when it threw).</summary>
    void OnStageEnd(TrainingSession session) { }

    /// <summary>The loop threw <paramref name="error"/> (a guard's <see cref="TrainingStoppedException"/>, or anything else);
    /// the exception propagates after every callback has seen it.</summary>
    void OnAborted(TrainingSession session, Exception error) { }
}
