using Distill.Checkpoints;
using Distill.Hf;
using Distill.Models;
using Distill.Recipes;
using Distill.Stages;
using Distill.Stages.Results;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Runs;

/// <summary>
/// Runs a validated recipe's stages in order in a run folder, writing <c>summary.json</c> after each. With
/// <c>resume</c>, completed stages (those in summary.json) are not rerun — their models are reloaded — and the stage in
/// progress continues from its last checkpoint. A teacher given as <c>pretrained</c> (a HF folder) with no
/// <c>train_teacher</c> stage is loaded and evaluated first (summary entry <c>teacher_pretrained</c>); whatever building
/// a model reports (new heads, teacher initialisation) is in the entry of the stage that built it.
/// The executor holds the run's current models — the teacher, the student the last stage left, the design stage's pick —
/// and hands them to each stage (<see cref="StageInputs"/>), replacing them with what the stage returns.
/// </summary>
public sealed class RunExecutor
{
    public required Recipe Recipe { get; init; }

    public required string RecipePath { get; init; }

    /// <summary>SHA-256 of the recipe text plus its <c>--set</c> overrides: a run resumes only under the same recipe.</summary>
    public required string RecipeSha256 { get; init; }

    public required string RunDir { get; init; }

    /// <summary><see cref="RecipeHash.ComputeForResume"/>: when set, a resume may differ from the start in the
    /// <see cref="ResumeOverrides"/> only. Null: a resume needs <see cref="RecipeSha256"/> exactly.</summary>
    public string? ResumeSha256 { get; init; }

    /// <summary>This invocation's <c>--set</c> overrides of the resume-changeable keys (recorded in summary.json when a resume changes them).</summary>
    public IReadOnlyList<string> ResumeOverrides { get; init; } = [];

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
        var (summary, changed) = Resume ? PrepareResume() : (new RunSummary(RecipePath, RecipeSha256) { ResumeSha256 = ResumeSha256 }, true);
        if (Resume) VerifyResumePoints(summary);
        try
        {
            if (changed) summary.Write(RunDir);
            return ExecuteStages(inputs, summary);
        }
        catch (Exception e)
        {
            try
            {
                runLock.RemoveStaleTemporaries(TextWriter.Null); // this process's own half-written checkpoint folders
                if (!Resume && !HasAnythingToKeep(summary))
                {
                    runLock.DeleteRunFolder();
                    Log.WriteLine($"[run] removed {RunDir}: the run failed before its first checkpoint, so the same command can be run again");
                }
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                Log.WriteLine($"[run] could not clean up {RunDir} after the failure: {cleanup.Message}"); // the failure itself is what to report
            }
            if (e is InvalidInputException bad) throw new RunFailedException(bad);
            throw;
        }
    }

    private RunSummary ExecuteStages(RunInputs inputs, RunSummary summary)
    {
        var device = torch.device(Recipe.Train.Device);
        var run = new RunEnvironment
        {
            Recipe = Recipe, RecipePath = RecipePath, RecipeSha256 = RecipeSha256, RunDir = RunDir, Device = device,
            Resuming = Resume, ExtraCallbacks = ExtraCallbacks, Log = Log, Inputs = inputs,
        };
        var factory = new ModelFactory(run);
        summary.Labels ??= inputs.Train.ClassNames; // labels collected from the training split are known to eval/predict later
        WriteHfSources();
        if (inputs.Train.Vocabulary is { } vocabulary) // transcripts: the CTC processor, for export and predict
            TranscriptProcessorFiles.Write(RunDir, vocabulary, Data.AudioFolder.AudioFolderDataset.Extractor(Recipe.Data));
        DistillModel? teacher = null, student = null;
        DesignedStudent? designed = null;
        if (Recipe.Teacher.Checkpoint is { } teacherCkpt) teacher = LoadTeacher(run, factory, teacherCkpt, summary);
        else if (Recipe.Teacher.Pretrained is { } folder && !Recipe.Stages.OfType<TrainTeacherStageSpec>().Any())
            teacher = LoadPretrainedTeacher(run, factory, folder, summary);

        var done = summary.Stages.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var spec in Recipe.Stages)
        {
            var stage = StageRegistry.Default.Get(spec.Kind).Create(spec);
            DistillModel? produced;
            if (done.Contains(spec.DisplayName))
            {
                produced = ReloadOutput(run, spec, stage.Produces);
                designed = stage.OnResumed(run, produced) ?? designed;
                Log.WriteLine($"[{spec.DisplayName}] already complete; reloaded its model from {run.ModelDir(spec)}");
            }
            else
            {
                var output = stage.Run(new StageInputs(run, factory, teacher, student, designed));
                produced = output.Model;
                designed = output.Designed ?? designed;
                summary.Add(output.Result);
                summary.Write(RunDir);
                OnStageDone(output.Result);
            }
            if (stage.Produces == ModelRole.Teacher) teacher = produced;
            else if (stage.Produces == ModelRole.Student) student = produced;
        }
        return summary;
    }

    /// <summary>The summary of the run to continue (under the lock; the recipe must be the one it was started with) and
    /// whether it is to be written (after the checkpoints were verified, so that a refused resume writes nothing).</summary>
    private (RunSummary Summary, bool Changed) PrepareResume()
    {
        string summaryPath = Path.Combine(RunDir, RunSummary.FileName);
        if (!File.Exists(summaryPath))
        {
            // Killed during its first stage: nothing completed yet, the stage's last checkpoint (if any) is the resume point.
            return (new RunSummary(RecipePath, RecipeSha256) { ResumeSha256 = ResumeSha256 }, true);
        }
        var existing = RunSummary.Read(RunDir);
        if (existing.RecipeSha256 == RecipeSha256) return (existing, false);
        if (ResumeSha256 is not null && existing.ResumeSha256 == ResumeSha256)
        {
            // Only the settings that steer the remaining steps differ (a lower lr after divergence): allowed, and recorded.
            string changes = ResumeOverrides.Count > 0 ? string.Join(" ", ResumeOverrides.Select(o => $"--set {o}")) : "(none of them set)";
            Log.WriteLine($"[run] resuming with other {string.Join(", ", RecipeHash.ResumeChangeableKeys.Select(k => "train." + k))} overrides than the start: {changes}");
            existing.ResumeChanges.Add(changes);
            return (existing, true);
        }
        throw new RunDirectoryException(RunDir,
            $"--resume: {RunDir} was started from a different recipe (sha256 {existing.RecipeSha256[..Math.Min(12, existing.RecipeSha256.Length)]}…, now {RecipeSha256[..Math.Min(12, RecipeSha256.Length)]}…). " +
            "Resume with the same recipe file and --set overrides — only --set overrides of " +
            string.Join(", ", RecipeHash.ResumeChangeableKeys.Select(k => "train." + k)) +
            " (or a stage's stages.N.train.<key>) may change — or start a new run with --out.");
    }

    /// <summary>
    /// Before anything is loaded: the final models of the completed stages and the <c>last</c> checkpoints the other
    /// stages will resume from are verified against their checksums, so a damaged one is exit code 2 naming the file and
    /// what to do, not a run that silently continues from other weights.
    /// </summary>
    private void VerifyResumePoints(RunSummary summary)
    {
        var done = summary.Stages.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        string stagesRoot = Path.Combine(RunDir, "checkpoints");
        foreach (var spec in Recipe.Stages)
        {
            string name = spec.DisplayName;
            if (done.Contains(name))
            {
                if (StageRegistry.Default.Get(spec.Kind).Create(spec).Produces == ModelRole.None) continue;
                string modelDir = Path.Combine(RunDir, "models", name);
                try { CheckpointIO.Verify(CheckpointIO.Locate(modelDir) ?? modelDir); }
                catch (Exception e) when (e is InvalidInputException or SafeTensorsFormatException or IOException)
                {
                    throw new RunDirectoryException(modelDir,
                        $"--resume: the final model of completed stage '{name}' cannot be used: {ErrorText.Of(e)} " +
                        "Restore that folder from a copy, or start a new run with --out (summary.json marks the stage complete, so --resume does not retrain it).");
                }
                continue;
            }
            string lastDir = Path.Combine(stagesRoot, name, "last");
            if (CheckpointIO.Locate(lastDir) is not { } last) continue;
            try { CheckpointIO.Verify(last); }
            catch (Exception e) when (e is InvalidInputException or SafeTensorsFormatException or IOException)
            {
                throw new RunDirectoryException(last,
                    $"--resume: the checkpoint stage '{name}' would resume from cannot be used: {ErrorText.Of(e)} " +
                    $"To go on, delete {last}: stage '{name}' then restarts from its first step (completed stages are kept).{BestNote(Path.Combine(stagesRoot, name, "best"))}");
            }
        }
    }

    /// <summary>What the stage's best checkpoint offers when its last one is damaged.</summary>
    private static string BestNote(string bestDir)
    {
        if (CheckpointIO.Locate(bestDir) is not { } best) return "";
        try
        {
            var state = CheckpointIO.Verify(best);
            return $" {best} (step {state.Step}, {(state.BestWer is { } wer ? $"WER {wer:0.####}" : $"accuracy {state.BestAccuracy:0.####}")}) is intact, but it holds the model only: it can serve as teacher.checkpoint, not resume training.";
        }
        catch (Exception e) when (e is InvalidInputException or SafeTensorsFormatException or IOException)
        {
            return "";
        }
    }

    /// <summary>Whether a failed fresh run has produced something a <c>--resume</c> could use: a completed stage or a checkpoint.</summary>
    private bool HasAnythingToKeep(RunSummary summary)
    {
        if (summary.Stages.Any(s => s is not (TeacherCheckpointResult or TeacherPretrainedResult))) return true; // those two only evaluate
        string checkpoints = Path.Combine(RunDir, "checkpoints");
        return Directory.Exists(checkpoints)
               && Directory.EnumerateFiles(checkpoints, CheckpointIO.StateFile, SearchOption.AllDirectories).Any();
    }

    /// <summary>The teacher of <c>teacher.checkpoint</c>, evaluated once and recorded as a <c>teacher_checkpoint</c> entry.</summary>
    private static DistillModel LoadTeacher(RunEnvironment run, ModelFactory factory, string checkpoint, RunSummary summary)
    {
        var (teacher, report) = factory.Build(ModelRole.Teacher, run.Recipe.Teacher, run.Recipe.Train.Seed);
        CheckpointIO.LoadWeights(CheckpointIO.Locate(checkpoint) ?? checkpoint, teacher);
        if (summary.Stages.Any(s => s is TeacherCheckpointResult)) return teacher;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (metrics, bySplit) = run.Evaluate(teacher);
        summary.Add(new TeacherCheckpointResult
        {
            Name = "teacher", Metrics = metrics, MetricsBySplit = bySplit, Params = teacher.ParameterCount(),
            ModelBytes = teacher.ParameterBytes(), WallSeconds = clock.Elapsed.TotalSeconds, Checkpoint = checkpoint,
        }.WithBuild(report));
        summary.Write(run.RunDir);
        return teacher;
    }

    /// <summary>
    /// A teacher given as a HF folder and not trained here: loaded (strictly; a resized or missing head is reported),
    /// evaluated once and recorded as a <c>teacher_pretrained</c> entry, like <c>teacher_checkpoint</c>.
    /// </summary>
    private static DistillModel LoadPretrainedTeacher(RunEnvironment run, ModelFactory factory, string folder, RunSummary summary)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (teacher, report) = factory.Build(ModelRole.Teacher, run.Recipe.Teacher, run.Recipe.Train.Seed);
        teacher.eval();
        if (summary.Stages.Any(s => s is TeacherPretrainedResult)) return teacher;
        var (metrics, bySplit) = run.Evaluate(teacher);
        summary.Add(new TeacherPretrainedResult
        {
            Name = "teacher", Metrics = metrics, MetricsBySplit = bySplit, Params = teacher.ParameterCount(),
            ModelBytes = teacher.ParameterBytes(), WallSeconds = clock.Elapsed.TotalSeconds, Pretrained = folder,
        }.WithBuild(report));
        summary.Write(run.RunDir);
        return teacher;
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

    /// <summary>The final model of a completed stage, reloaded for the stages after it; null for a stage that produces none.</summary>
    private static DistillModel? ReloadOutput(RunEnvironment run, StageSpec spec, ModelRole role)
    {
        if (role == ModelRole.None) return null;
        var model = ModelCheckpoint.Load(CheckpointIO.Locate(run.ModelDir(spec)) ?? run.ModelDir(spec), ModelRegistry.Default).to(run.Device);
        model.eval();
        return model;
    }
}
