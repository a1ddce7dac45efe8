using Distill.Models;
using Distill.Models.Design;
using Distill.Onnx.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Design;

/// <summary>
/// Latencies of a run: the profile cache first, else a real timing of freshly built candidates on the deployment
/// device (weights do not change the cost of dense kernels), in the deployment's runtime — TorchSharp eager, or the
/// candidate exported to an in-memory ONNX graph (<see cref="OnnxCandidateGraph"/>) in an ONNX Runtime session with the
/// deployment's thread count. Candidates timed together go through one interleaved block of
/// <see cref="LatencyProfiler.MeasureBlock(IReadOnlyList{Action}, int)"/>, with the block's median-MACs candidate as
/// the reference; results are saved to the cache at once so an interrupted run keeps what it measured.
/// </summary>
public sealed class ProfiledLatencySource(DesignFamily family, DeploymentShape shape, ProfileCache cache, LatencyProfiler profiler, Device device)
    : ILatencySource
{
    public ProfileCache Cache => cache;

    public LatencyMeasurement? Cached(Candidate candidate) => cache.TryGet(candidate.CacheKey, out var e) ? e.Latency : null;

    public LatencyMeasurement Measure(Candidate candidate) => MeasureMany([candidate])[0];

    public IReadOnlyList<LatencyMeasurement> MeasureMany(IReadOnlyList<Candidate> candidates)
    {
        if (candidates.Count == 0) return [];
        var models = new List<DistillModel>();
        try
        {
            foreach (var c in candidates)
            {
                var model = ModelRegistry.Default.Get(family.Family).Build(c.Config);
                models.Add(model);
                model.to(device);
            }
            var byMacs = Enumerable.Range(0, candidates.Count).OrderBy(i => candidates[i].Macs).ThenBy(i => candidates[i].Index).ToList();
            var measured = MeasureModels(models, [.. candidates.Select(c => c.Config)], reference: byMacs[byMacs.Count / 2]);
            for (int i = 0; i < candidates.Count; i++)
                cache.Put(candidates[i].CacheKey, new ProfileEntry
                {
                    Family = family.Family, Label = candidates[i].Label, Inputs = family.InputsText(candidates[i].Config, shape), Latency = measured[i],
                });
            cache.Save();
            return measured;
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }

    public void Keep(Candidate candidate, LatencyMeasurement measurement)
    {
        cache.Put(candidate.CacheKey, new ProfileEntry
        {
            Family = family.Family, Label = candidate.Label, Inputs = family.InputsText(candidate.Config, shape), Latency = measurement,
        });
        cache.Save();
    }

    /// <summary>Times an existing model (a trained or compressed student) at the deployment shape, in the deployment's runtime; not cached.</summary>
    public LatencyMeasurement MeasureModel(DistillModel model, IModelConfig config) => MeasureModels([model], [config], reference: 0)[0];

    private IReadOnlyList<LatencyMeasurement> MeasureModels(IReadOnlyList<DistillModel> models, IReadOnlyList<IModelConfig> configs, int reference)
    {
        using var scope = torch.NewDisposeScope();
        var batches = configs.Select(c => family.SyntheticBatch(c, shape, device)).ToList();
        if (shape.Runtime == DeploymentRuntime.Torchsharp) return profiler.MeasureBlock(models, batches, device, shape.Threads, reference);
        if (device.type != DeviceType.CPU)
            throw new InvalidOperationException($"runtime: onnxruntime times on the CPU; the deployment device is {shape.Device}. Set deployment.device: cpu.");
        var sessions = new List<OnnxTimedSession>();
        try
        {
            for (int m = 0; m < models.Count; m++)
                sessions.Add(new OnnxTimedSession(OnnxCandidateGraph.Bytes(models[m], shape.OnnxPrecision), batches[m], shape.Threads));
            return profiler.MeasureBlock([.. sessions.Select<OnnxTimedSession, Action>(s => s.Run)], reference);
        }
        finally
        {
            foreach (var s in sessions) s.Dispose();
        }
    }
}
