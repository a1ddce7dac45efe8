using Distill.Checkpoints;
using Distill.Data;
using Distill.Data.Transfer;
using Distill.Hf;
using Distill.Recipes;

namespace Distill.Stages;

/// <summary>
/// The pre-flight of <c>distill run</c> and <c>distill validate</c>: every input file the run will read that can be
/// checked cheaply is checked before the run folder exists, so that bad input is exit code 2 with nothing written.
/// <list type="bullet">
/// <item>Data: the training split and every evaluation split are opened, which reads and verifies every file (MNIST:
/// the gzip trailer's CRC-32 and length, the IDX header against the size and the labels; CIFAR-10: the record size and
/// labels; text tables: every row; image and audio folders: every file decoded once; ...). The opened splits
/// are handed to the run, so the data is read once.</item>
/// <item><c>pretrained</c> folders: safetensors headers bounds-checked against the file, or a <c>pytorch_model.bin</c>
/// run through the restricted unpickler; no tensor data is read (the run loads the weights once).</item>
/// <item><c>teacher.checkpoint</c>: the checkpoint folder verified against its checksums (<see cref="CheckpointIO.Verify"/>).</item>
/// </list>
/// All problems are reported together, each naming the recipe key, the file and the fix.
/// </summary>
public sealed class RunInputs : IDisposable
{
    private RunInputs(IDataset train, IReadOnlyList<(string Split, IDataset Data)> evals)
    {
        Train = train;
        Evals = evals;
    }

    /// <summary>The training split as opened, before <c>train_limit</c>.</summary>
    public IDataset Train { get; }

    /// <summary>The first evaluation split as opened, before <c>eval_limit</c>.</summary>
    public IDataset Eval => Evals[0].Data;

    /// <summary>Every evaluation split as opened (the recipe's order), before <c>eval_limit</c>.</summary>
    public IReadOnlyList<(string Split, IDataset Data)> Evals { get; }

    /// <summary>Checks a validated recipe's input files; throws an <see cref="InvalidInputException"/> listing every problem.</summary>
    public static RunInputs Check(Recipe recipe)
    {
        var problems = new List<InvalidInputException>();
        var kind = DatasetRegistry.Default.Get(recipe.Data.Dataset);
        IDataSettings data = recipe.Data;
        var train = Open(kind, recipe.Data, data.TrainSplit, problems);
        var evals = data.EvalSplitNames
            .Select(split => (Split: split, Data: split == data.TrainSplit ? train : Open(kind, recipe.Data, split, problems))).ToList();

        foreach (var (role, spec) in new[] { ("teacher", recipe.Teacher), ("student", recipe.Student) })
            if (spec.Pretrained is { } folder)
            {
                try { HfFolder.VerifyWeights(folder); }
                catch (Exception e) when (e is SafeTensorsFormatException or PyTorchCheckpointException or HfFolderException or IOException or UnauthorizedAccessException)
                {
                    problems.Add(new InvalidInputException(folder,
                        $"{role}.pretrained: {ErrorText.Of(e)} The weights cannot be used: replace them with an intact copy (download or save_pretrained again).", e));
                }
            }

        if (recipe.Distill.Transfer is { Unlabelled: > 0 } transfer && recipe.Stages.Any(s => s is DistillStageSpec) && train is not null
            && recipe.Data.TrainLimit is { } limit && TransferDataset.TooFewBeyondLimit(train.Count, limit, transfer.Unlabelled) is { } problem)
            problems.Add(new InvalidInputException(recipe.Data.Path, $"{problem} (training split '{data.TrainSplit}')"));

        if (recipe.Teacher.Checkpoint is { } checkpoint)
        {
            try { CheckpointIO.Verify(CheckpointIO.Locate(checkpoint) ?? checkpoint); }
            catch (Exception e) when (e is InvalidInputException or InvalidDataException or SafeTensorsFormatException or IOException or UnauthorizedAccessException)
            {
                problems.Add(new InvalidInputException(checkpoint,
                    $"teacher.checkpoint: {ErrorText.Of(e)} Point teacher.checkpoint at an intact checkpoint folder (e.g. <run>/models/teacher).", e));
            }
        }

        if (problems.Count > 0)
        {
            Dispose(train);
            foreach (var (_, eval) in evals) if (!ReferenceEquals(eval, train)) Dispose(eval);
            throw InvalidInputException.Combine(problems);
        }
        return new RunInputs(train!, [.. evals.Select(e => (e.Split, e.Data!))]);
    }

    /// <summary>
    /// Opens the named splits of the recipe's data as a run would (each after <c>eval_limit</c>, with the run's seed),
    /// for <c>distill eval</c>; every problem is reported together as one <see cref="InvalidInputException"/>.
    /// </summary>
    public static IReadOnlyList<(string Split, IDataset Data)> OpenEvalSplits(Recipe recipe, IReadOnlyList<string> splits)
    {
        var problems = new List<InvalidInputException>();
        var kind = DatasetRegistry.Default.Get(recipe.Data.Dataset);
        var opened = splits.Select(split => (Split: split, Data: Open(kind, recipe.Data, split, problems))).ToList();
        if (problems.Count > 0)
        {
            foreach (var (_, data) in opened) Dispose(data);
            throw InvalidInputException.Combine(problems);
        }
        return [.. opened.Select(o => (o.Split, SubsetDataset.Limit(o.Data!, recipe.Data.EvalLimit, recipe.Train.Seed)))];
    }

    private static IDataset? Open(DatasetKind kind, DataSpec data, string split, List<InvalidInputException> problems)
    {
        try
        {
            return kind.Open(data, split);
        }
        catch (InvalidInputException e)
        {
            problems.Add(new InvalidInputException(e.Path, $"data ({split} split): {e.Message}", e));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException or FormatException)
        {
            problems.Add(new InvalidInputException(data.Path,
                $"data ({split} split) in {data.Path}: {ErrorText.Of(e)} Check the files of the {data.Dataset} {split} split there.", e));
        }
        return null;
    }

    private static void Dispose(IDataset? data) => (data as IDisposable)?.Dispose();

    public void Dispose()
    {
        Dispose(Train);
        foreach (var (_, eval) in Evals) if (!ReferenceEquals(eval, Train)) Dispose(eval);
    }
}
