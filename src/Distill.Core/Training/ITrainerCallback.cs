namespace Distill.Training;

/// <summary>Hooks on the training loop: TensorBoard, checkpoints and progress display are callbacks, not trainer flags.</summary>
public interface ITrainerCallback
{
    void OnStageStart(TrainingSession session) { }

    void OnStep(TrainingSession session, StepInfo step) { }

    void OnEval(TrainingSession session, EvalInfo eval) { }

    /// <summary>The loop finished (not called when it threw).</summary>
    void OnStageEnd(TrainingSession session) { }
}
