namespace Distill.Training;

/// <summary>The decay after warm-up of <see cref="LrSchedule"/> (recipe key <c>train.schedule</c>).</summary>
public enum ScheduleKind { Constant, Linear, Cosine }
