namespace Distill.Stages;

/// <summary>Which model of the run a stage produces; a resumed run reloads completed stages' models into these roles.</summary>
public enum ModelRole
{
    None,
    Teacher,
    Student,
}
