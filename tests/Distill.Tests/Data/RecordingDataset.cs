using System.Collections.Concurrent;
using Distill.Data;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Tests.Data;

/// <summary>
/// A dataset for the prefetch tests: wraps another (or makes example i's input the value i) and records, for every
/// <see cref="GetBatch"/>, the calling thread, the batch's indices and the tensors it returned; it can fail at a
/// chosen call, as a dataset whose file became unreadable does.
/// </summary>
internal sealed class RecordingDataset(IDataset? source = null, int count = 64) : IDataset
{
    private int _calls;

    public sealed record Call(int Number, int ThreadId, int[] Indices, Tensor[] Tensors, Tensor? Scratch);

    public ConcurrentQueue<Call> Calls { get; } = new();

    /// <summary>The call (0-based) that throws <see cref="Failure"/> instead of returning; −1 = none.</summary>
    public int FailAt { get; init; } = -1;

    public string FailingFile { get; init; } = "/data/train/cat/broken.png";

    public InvalidInputException Failure => new(FailingFile, $"{FailingFile}: cannot be read (Permission denied).");

    /// <summary>Calls started so far.</summary>
    public int CallCount => Volatile.Read(ref _calls);

    public int Count => source?.Count ?? count;

    public int NumClasses => source?.NumClasses ?? 2;

    public int Label(int index) => source?.Label(index) ?? index % 2;

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        int number = Interlocked.Increment(ref _calls) - 1;
        if (number == FailAt) throw Failure;
        Batch batch;
        Tensor? scratch = null;
        if (source is not null) batch = source.GetBatch(indices);
        else
        {
            var x = new float[indices.Length];
            var y = new long[indices.Length];
            for (int i = 0; i < x.Length; i++) (x[i], y[i]) = (indices[i], indices[i] % 2);
            scratch = torch.tensor(x);                              // dropped: a scope must free it
            var values = (scratch * 1f).reshape(indices.Length, 1); // (B, 1)
            batch = new Batch(new Dictionary<string, Tensor> { ["x"] = values }, torch.tensor(y));
        }
        Calls.Enqueue(new Call(number, Environment.CurrentManagedThreadId, indices.ToArray(),
            [.. batch.Inputs.Values, .. batch.Labels is { } l ? [l] : Array.Empty<Tensor>()], scratch));
        return batch;
    }

    /// <summary>Waits until <paramref name="calls"/> calls have finished (recorded), at most 20 s.</summary>
    public bool WaitForCalls(int calls)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (Calls.Count < calls)
        {
            if (DateTime.UtcNow > until) return false;
            Thread.Sleep(5);
        }
        return true;
    }
}
