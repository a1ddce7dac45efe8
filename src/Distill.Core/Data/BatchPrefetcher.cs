using System.Globalization;
using System.Runtime.ExceptionServices;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Data;

/// <summary>
/// Builds the batches a loop will ask for, in its order, ahead of it on a background thread (<c>data.prefetch</c>):
/// while a step runs on the batch it took, the worker reads and decodes the next ones, at most <c>depth</c> batches
/// ahead (built or being built). Depth 0 builds each batch on the calling thread when it is taken, as a plain
/// <see cref="IDataset.GetBatch"/> would. Either way the batches and their order are the same, so results are
/// bit-identical; the dataset is only ever called by one thread at a time (the worker, or the caller with depth 0),
/// so datasets need not be thread-safe.
/// <para><b>Ownership.</b> TorchSharp's dispose scopes are per thread: a tensor joins the innermost scope of the thread
/// that creates it. The worker builds each batch inside its own scope (so what <see cref="IDataset.GetBatch"/> creates
/// and drops is freed there) and detaches the batch's tensors from it before handing the batch over; from then on the
/// batch belongs to no scope and to nobody but the consumer. <see cref="Take"/> attaches it to the consumer's scope
/// (its step scope), which frees it with the step's other tensors. Batches built but never taken are freed by
/// <see cref="Dispose"/>.</para>
/// <para><b>Errors.</b> An exception thrown while building batch k (a file that became unreadable: the datasets' errors
/// name the file) is rethrown, with its type and message, by the <see cref="Take"/> that would have returned batch k,
/// after batches 0..k−1 were delivered: exactly where building it on the calling thread would have thrown.</para>
/// </summary>
public sealed class BatchPrefetcher : IDisposable
{
    /// <summary>The default of <c>data.prefetch</c>: two batches ahead.</summary>
    public const int DefaultDepth = 2;

    private readonly IDataset _data;
    private readonly int _depth;
    private readonly IEnumerator<int[]>? _inline;
    private readonly Thread? _worker;
    private readonly object _gate = new();
    private readonly Queue<Batch> _ready = new();
    private bool _finished;   // the worker has built its last batch or failed
    private bool _stopping;   // Dispose was called
    private ExceptionDispatchInfo? _error;

    /// <param name="data">The dataset the batches are built from.</param>
    /// <param name="batches">The example indices of each batch, in the order they will be taken (enumerated by the worker, lazily).</param>
    /// <param name="depth">Batches built ahead: 0 = none (built by <see cref="Take"/> on the calling thread).</param>
    public BatchPrefetcher(IDataset data, IEnumerable<int[]> batches, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        _data = data;
        _depth = depth;
        if (depth == 0)
        {
            _inline = batches.GetEnumerator();
            return;
        }
        // Messages the datasets format (numbers in errors) read as they would on the calling thread.
        var culture = CultureInfo.CurrentCulture;
        var uiCulture = CultureInfo.CurrentUICulture;
        _worker = new Thread(() =>
        {
            CultureInfo.CurrentCulture = culture;
            CultureInfo.CurrentUICulture = uiCulture;
            Work(batches);
        })
        {
            IsBackground = true,
            Name = "distill-prefetch",
        };
        _worker.Start();
    }

    /// <summary>Batches built ahead (0 = built on the calling thread).</summary>
    public int Depth => _depth;

    /// <summary>
    /// The next batch, on CPU as the dataset built it, its tensors attached to <paramref name="owner"/> (the caller's
    /// step scope, which must be the calling thread's): the caller owns it and the scope frees it. Rethrows what
    /// building this batch threw; throws <see cref="InvalidOperationException"/> after the last batch.
    /// </summary>
    public Batch Take(DisposeScope owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (_inline is not null)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            _error?.Throw();
            Batch? built = null;
            try
            {
                if (_inline.MoveNext()) built = _data.GetBatch(_inline.Current); // joins the caller's innermost scope, as a plain GetBatch does
            }
            catch (Exception e)
            {
                _error = ExceptionDispatchInfo.Capture(e); // as with a worker: the batches after a failure are not built
                throw;
            }
            if (built is null) throw new InvalidOperationException("BatchPrefetcher: every batch has been taken.");
            owner.Attach(Tensors(built));
            return built;
        }
        Batch batch;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            while (_ready.Count == 0 && !_finished) Monitor.Wait(_gate);
            if (_ready.Count == 0)
            {
                _error?.Throw();
                throw new InvalidOperationException("BatchPrefetcher: every batch has been taken.");
            }
            batch = _ready.Dequeue();
            Monitor.PulseAll(_gate); // a slot is free: the worker may build the next one
        }
        // The worker detached the tensors, so attaching touches no other thread's scope.
        owner.Attach(Tensors(batch));
        return batch;
    }

    /// <summary>Stops the worker (after the batch it is building, if any) and frees every batch not taken.</summary>
    public void Dispose()
    {
        if (_inline is not null)
        {
            _stopping = true;
            _inline.Dispose();
            return;
        }
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        _worker!.Join();
        lock (_gate)
            while (_ready.Count > 0) Free(_ready.Dequeue());
    }

    private void Work(IEnumerable<int[]> batches)
    {
        try
        {
            using var order = batches.GetEnumerator();
            while (true)
            {
                lock (_gate)
                {
                    // At most _depth batches ahead of the consumer: those waiting plus the one about to be built.
                    while (_ready.Count >= _depth && !_stopping) Monitor.Wait(_gate);
                    if (_stopping) return;
                }
                if (!order.MoveNext()) return;
                Batch batch;
                using (var scope = torch.NewDisposeScope())
                {
                    batch = _data.GetBatch(order.Current);
                    scope.Detach(Tensors(batch)); // the scope frees what GetBatch dropped; the batch now belongs to no scope
                }
                lock (_gate)
                {
                    if (_stopping)
                    {
                        Free(batch);
                        return;
                    }
                    _ready.Enqueue(batch);
                    Monitor.PulseAll(_gate);
                }
            }
        }
        catch (Exception e)
        {
            lock (_gate) _error = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            lock (_gate)
            {
                _finished = true;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>The tensors a batch holds: its inputs and its labels.</summary>
    private static IEnumerable<Tensor> Tensors(Batch batch) =>
        batch.Labels is { } labels ? batch.Inputs.Values.Append(labels) : batch.Inputs.Values;

    private static void Free(Batch batch)
    {
        foreach (var t in Tensors(batch)) t.Dispose();
    }

    /// <summary>The batches of a whole split in index order, <paramref name="batchSize"/> examples each (the last one shorter): evaluation's and prediction's order.</summary>
    public static IEnumerable<int[]> Sequential(int count, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            var indices = new int[n];
            for (int i = 0; i < n; i++) indices[i] = start + i;
            yield return indices;
        }
    }
}
