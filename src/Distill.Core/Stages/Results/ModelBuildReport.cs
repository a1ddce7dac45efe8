namespace Distill.Stages.Results;

/// <summary>What building a model recorded for the summary (each null when it did not happen).</summary>
public sealed record ModelBuildReport
{
    public static ModelBuildReport None { get; } = new();

    public NewHeadReport? NewHead { get; init; }

    public NewPartsReport? NewParts { get; init; }

    public InitFromTeacherReport? InitFromTeacher { get; init; }
}
