using Distill.Checkpoints;
using Distill.Hf;
using Distill.Models;
using Distill.Recipes;
using Distill.Stages;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Runs;

/// <summary>
/// Runs a validated recipe's stages in order in a run folder, writing <c>summary.json</c> after each. With
/// <c>resume</c>, completed stages (those in summary.json) are not rerun — their models are reloaded — and the stage in
/// progress continues from its last checkpoint. A teacher given as <c>pretrained</c> (a HF folder) with no
/// <c>train_teacher</c> stage is loaded and evaluated first (summary entry <c>teacher_pretrained</c>); whatever building
/// a model reports (new heads, teacher initialisation) is added to that stage's summary entry.
/// </summary>
public sealed class RunExecutor
{
    public required Recipe Recipe { get; init; }

    public required string RecipePath { get; init; }

    /// <summary>SHA-256 of the recipe text plus its <c>--set</c> overrides: a run resumes only under the same recipe.</summary>
    public required string RecipeSha256 { get; init; }

    public required string RunDir { get; init; }

    public bool Resume { get; init; }

    public Func<string, IEnumerable<ITrainerCallback>> ExtraCallbacks { get; init; } = _ => [];

    /// <summary>Called after each stage with its result (the CLI prints a line).</summary>
    public Action<StageResult> OnStageDone { get; init; } = _ => { };

    public TextWriter Log { get; init; } = TextWriter.Null;

    /// <summary>
    /// Checks the inputs (<see cref="RunInputs"/>), then creates (or, resuming, locks) the run folder and runs the
    /// stages, holding the folder's <see cref="RunLock"/> throughout. Bad input found before the stages start is an
    /// <see cref="InvalidInputException"/> (nothing written); a bad file found later a <see cref="RunFailedException"/>.
    /// A fresh run that fails before it has a checkpoint or a completed stage removes its folder, so the same command
    /// can be run again.
    /// </summary>
    public RunSummary Execute()
    {
        using var inputs = RunInputs.Check(Recipe);
        using var runLock = Resume ? RunLock.Acquire(RunDir) : RunLock.CreateFresh(RunDir);
        runLock.RemoveStaleTemporaries(Log);
        var summary = Resume ? PrepareResume() : new RunSummary(RecipePath, RecipeSha256);
        try
        {
            if (!Resume) summary.Write(RunDir);
            return ExecuteStages(inputs, summary);
        }
        catch (Exception e)
        {
            runLock.RemoveStaleTemporaries(TextWriter.Null); // this process's own half-written checkpoint folders
            if (!Resume && !HasAnythingToKeep(summary))
            {
                runLock.DeleteRunFolder();
                Log.WriteLine($"[run] removed {RunDir}: the run failed before its first checkpoint, so the same command can be run again");
            }
            if (e is InvalidInputException bad) throw new RunFailedException(bad);
            throw;
        }
    }

    private RunSummary ExecuteStages(RunInputs inputs, RunSummary summary)
    {
        var device = torch.device(Recipe.Train.Device);
        var run = new RunContext
        {
            Recipe = Recipe, RecipePath = RecipePath, RecipeSha256 = RecipeSha256, RunDir = RunDir, Device = device,
            Resuming = Resume, ExtraCallbacks = ExtraCallbacks, Log = Log, Inputs = inputs,
        };
        summary.Labels ??= inputs.Train.ClassNames; // labels collected from the training split are known to eval/predict later
        WriteHfSources();
        if (Recipe.Teacher.Checkpoint is { } teacherCkpt) LoadTeacher(run, teacherCkpt, summary);
        else if (Recipe.Teacher.Pretrained is { } folder && !Recipe.Stages.OfType<TrainTeacherStageSpec>().Any())
            LoadPretrainedTeacher(run, folder, summary);

        var done = summary.Stages.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var spec in Recipe.Stages)
        {
            var stage = StageRegistry.Default.Get(spec.Kind).Create(spec);
            if (done.Contains(spec.DisplayName))
            {
                RestoreOutput(run, spec, stage.Produces);
                stage.OnResumed(run);
                Log.WriteLine($"[{spec.DisplayName}] already complete; reloaded its model from {run.ModelDir(spec)}");
                continue;
            }
            var result = stage.Run(run);
            if (run.PendingExtra.Count > 0)
            {
                var extra = new Dictionary<string, object>(result.Extra, StringComparer.Ordinal);
                foreach (var (k, v) in run.PendingExtra) extra[k] = v;
                run.PendingExtra.Clear();
                result = result with { Extra = extra };
            }
            summary.Add(result);
            summary.Write(RunDir);
            OnStageDone(result);
        }
        return summary;
    }

    /// <summary>The summary of the run to continue (under the lock): the recipe must be the one it was started with.</summary>
    private RunSummary PrepareResume()
    {
        string summaryPath = Path.Combine(RunDir, RunSummary.FileName);
        if (!File.Exists(summaryPath))
        {
            // Killed during its first stage: nothing completed yet, the stage's last checkpoint (if any) is the resume point.
            var fresh = new RunSummary(RecipePath, RecipeSha256);
            fresh.Write(RunDir);
            return fresh;
        }
        var existing = RunSummary.Read(RunDir);
        if (existing.RecipeSha256 != RecipeSha256)
            throw new RunDirectoryException(RunDir,
                $"--resume: {RunDir} was started from a different recipe (sha256 {existing.RecipeSha256[..Math.Min(12, existing.RecipeSha256.Length)]}…, now {RecipeSha256[..Math.Min(12, RecipeSha256.Length)]}…). " +
                "Resume with the same recipe and --set overrides, or start a new run with --out.");
        return existing;
    }

    /// <summary>Whether a failed fresh run has produced something a <c>--resume</c> could use: a completed stage or a checkpoint.</summary>
    private bool HasAnythingToKeep(RunSummary summary)
    {
        if (summary.Stages.Any(s => s.Kind is not ("teacher_checkpoint" or "teacher_pretrained"))) return true; // those two only evaluate
        string checkpoints = Path.Combine(RunDir, "checkpoints");
        return Directory.Exists(checkpoints)
               && Directory.EnumerateFiles(checkpoints, CheckpointIO.StateFile, SearchOption.AllDirectories).Any();
    }

    private static void LoadTeacher(RunContext run, string checkpoint, RunSummary summary)
    {
        var teacher = run.BuildModel(run.Recipe.Teacher, run.Recipe.Train.Seed);
        CheckpointIO.LoadWeights(CheckpointIO.Locate(checkpoint) ?? checkpoint, teacher);
        run.Teacher = teacher;
        if (summary.Stages.Any(s => s.Kind == "teacher_checkpoint")) return;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (metrics, bySplit) = run.Evaluate(teacher);
        summary.Add(new StageResult
        {
            Name = "teacher", Kind = "teacher_checkpoint", Metrics = metrics, MetricsBySplit = bySplit, Params = teacher.ParameterCount(),
            ModelBytes = teacher.ParameterBytes(), WallSeconds = clock.Elapsed.TotalSeconds,
            Extra = new Dictionary<string, object> { ["checkpoint"] = checkpoint },
        });
        summary.Write(run.RunDir);
    }

    /// <summary>
    /// A teacher given as a HF folder and not trained here: loaded (strictly; a resized or missing head is reported),
    /// evaluated once and recorded as a <c>teacher_pretrained</c> entry, like <c>teacher_checkpoint</c>.
    /// </summary>
    private static void LoadPretrainedTeacher(RunContext run, string folder, RunSummary summary)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var teacher = run.BuildModel(run.Recipe.Teacher, run.Recipe.Train.Seed);
        teacher.eval();
        run.Teacher = teacher;
        var extra = new Dictionary<string, object>(run.PendingExtra, StringComparer.Ordinal) { ["pretrained"] = folder };
        run.PendingExtra.Clear();
        if (summary.Stages.Any(s => s.Kind == "teacher_pretrained")) return;
        var (metrics, bySplit) = run.Evaluate(teacher);
        summary.Add(new StageResult
        {
            Name = "teacher", Kind = "teacher_pretrained", Metrics = metrics, MetricsBySplit = bySplit, Params = teacher.ParameterCount(),
            ModelBytes = teacher.ParameterBytes(), WallSeconds = clock.Elapsed.TotalSeconds, Extra = extra,
        });
        summary.Write(run.RunDir);
    }

    /// <summary>
    /// Records the HF folders the recipe names (<see cref="HfRunSources.FileName"/>), so <c>distill export</c> can
    /// copy the tokenizer or processor files next to an exported model without the recipe.
    /// </summary>
    private void WriteHfSources()
    {
        var sources = new HfRunSources
        {
            TeacherPretrained = Recipe.Teacher.Pretrained,
            StudentPretrained = Recipe.Student.Pretrained,
            DataTokenizer = Recipe.Data.Tokenizer,
        };
        if (sources.TeacherPretrained is null && sources.StudentPretrained is null && sources.DataTokenizer is null) return;
        sources.Write(RunDir);
    }

    private static void RestoreOutput(RunContext run, StageSpec spec, ModelRole role)
    {
        if (role == ModelRole.None) return;
        var model = CheckpointIO.LoadModel(CheckpointIO.Locate(run.ModelDir(spec)) ?? run.ModelDir(spec), ModelRegistry.Default).to(run.Device);
        model.eval();
        if (role == ModelRole.Teacher) run.Teacher = model;
        else run.Student = model;
    }
}
