namespace Distill.Bench;

/// <summary>What the footer under a bench table states: command, time, machine, settings and the teacher.</summary>
public sealed record BenchFooter(string Workload, string Command, string CreatedUtc, string Cpu, int Cores, string TorchVersion, int Threads,
    int Reps, int Epochs, int RssSteps, int TeacherSteps, double TeacherAccuracy, int TrainCount);
