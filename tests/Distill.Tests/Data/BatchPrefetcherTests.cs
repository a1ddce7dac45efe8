using Distill.Data;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Data;

/// <summary>
/// <see cref="BatchPrefetcher"/>: the same batches in the same order at every depth, built ahead on another thread
/// and at most depth ahead, owned by the consumer's scope once taken, the rest freed on dispose, and a worker's
/// exception rethrown at the batch that failed.
/// </summary>
public class BatchPrefetcherTests
{
    private static int[][] Spans(int batches, int size) =>
        [.. Enumerable.Range(0, batches).Select(b => Enumerable.Range(0, size).Select(i => (b * size + i * 7) % 64).ToArray())];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void EveryDepthDeliversTheBatchesOfTheSpansInOrder(int depth)
    {
        var data = new RecordingDataset();
        var spans = Spans(9, 4);
        using var feed = new BatchPrefetcher(data, spans, depth);
        foreach (var span in spans)
        {
            using var scope = torch.NewDisposeScope();
            var batch = feed.Take(scope);
            Assert.Equal(span.Select(i => (float)i), batch["x"].data<float>().ToArray());
            Assert.Equal(span.Select(i => (long)(i % 2)), batch.RequireLabels().data<long>().ToArray());
        }
        Assert.Throws<InvalidOperationException>(() =>
        {
            using var scope = torch.NewDisposeScope();
            feed.Take(scope);
        });
        Assert.Equal(spans, data.Calls.OrderBy(c => c.Number).Select(c => c.Indices));
    }

    [Fact]
    public void TheWorkerBuildsTheNextBatchesOnItsOwnThreadWhileAStepRunsAtMostDepthAhead()
    {
        var data = new RecordingDataset();
        using var feed = new BatchPrefetcher(data, Spans(6, 4), depth: 2);
        using (var step = torch.NewDisposeScope())
        {
            feed.Take(step);
            // While "step 0" holds its batch, the worker builds batches 1 and 2 — and then waits: two ahead at most.
            Assert.True(data.WaitForCalls(3), $"the worker built {data.Calls.Count} batches, not 3, while the first step ran");
            Thread.Sleep(200);
            Assert.Equal(3, data.CallCount);
        }
        Assert.All(data.Calls, c => Assert.NotEqual(Environment.CurrentManagedThreadId, c.ThreadId));
        using (var step = torch.NewDisposeScope()) feed.Take(step);
        Assert.True(data.WaitForCalls(4)); // taking batch 1 freed a slot for batch 3
    }

    [Fact]
    public void DepthZeroBuildsEachBatchOnTheCallingThreadWhenTaken()
    {
        var data = new RecordingDataset();
        using var feed = new BatchPrefetcher(data, Spans(3, 4), depth: 0);
        Thread.Sleep(50);
        Assert.Equal(0, data.CallCount);
        using var step = torch.NewDisposeScope();
        feed.Take(step);
        Assert.Equal(Environment.CurrentManagedThreadId, Assert.Single(data.Calls).ThreadId);
    }

    [Fact]
    public void ATakenBatchBelongsToTheConsumersScopeAndTheWorkersScopeFreesWhatGetBatchDropped()
    {
        var data = new RecordingDataset();
        using var feed = new BatchPrefetcher(data, Spans(4, 4), depth: 2);
        RecordingDataset.Call first;
        using (var step = torch.NewDisposeScope())
        {
            var batch = feed.Take(step);
            Assert.True(data.WaitForCalls(3));
            first = data.Calls.Single(c => c.Number == 0);
            Assert.All(first.Tensors, t => Assert.True(step.Contains(t)));
            Assert.All(first.Tensors, t => Assert.False(t.IsInvalid));
            Assert.True(first.Scratch!.IsInvalid); // freed by the worker's scope right after GetBatch
            Assert.Equal(4, batch["x"].shape[0]);
        }
        Assert.All(first.Tensors, t => Assert.True(t.IsInvalid)); // the step scope freed the batch with it
        // Batches built ahead are in no scope meanwhile, so the consumer's scope ending did not free them.
        Assert.All(data.Calls.Where(c => c.Number > 0).SelectMany(c => c.Tensors), t => Assert.False(t.IsInvalid));
    }

    [Fact]
    public void DisposeFreesTheBatchesBuiltButNotTaken()
    {
        var data = new RecordingDataset();
        var feed = new BatchPrefetcher(data, Spans(8, 4), depth: 2);
        using var step = torch.NewDisposeScope();
        feed.Take(step);
        Assert.True(data.WaitForCalls(3));
        feed.Dispose();
        var ahead = data.Calls.Where(c => c.Number is 1 or 2).SelectMany(c => c.Tensors).ToList();
        Assert.Equal(4, ahead.Count);
        Assert.All(ahead, t => Assert.True(t.IsInvalid));
        Assert.All(data.Calls.Single(c => c.Number == 0).Tensors, t => Assert.False(t.IsInvalid)); // taken: the step's
        Assert.Equal(3, data.CallCount); // the worker stopped
        Assert.Throws<ObjectDisposedException>(() => feed.Take(step));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void AWorkersExceptionIsRethrownByTheTakeOfTheBatchThatFailedNamingTheFile(int depth)
    {
        var data = new RecordingDataset { FailAt = 3 };
        using var feed = new BatchPrefetcher(data, Spans(6, 4), depth);
        for (int b = 0; b < 3; b++)
        {
            using var step = torch.NewDisposeScope();
            Assert.Equal(4, feed.Take(step)["x"].shape[0]);
        }
        for (int again = 0; again < 2; again++)
        {
            using var step = torch.NewDisposeScope();
            var e = Assert.Throws<InvalidInputException>(() => feed.Take(step));
            Assert.Equal(data.FailingFile, e.Path);
            Assert.Equal(data.Failure.Message, e.Message);
        }
        Assert.Equal(4, data.CallCount); // nothing is built after the failure
    }

    [Fact]
    public void SequentialCoversASplitInIndexOrderWithAShorterLastBatch()
    {
        Assert.Equal([[0, 1, 2], [3, 4, 5], [6]], BatchPrefetcher.Sequential(7, 3));
        Assert.Empty(BatchPrefetcher.Sequential(0, 3));
    }
}
