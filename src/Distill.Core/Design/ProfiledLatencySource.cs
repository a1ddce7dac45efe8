using Distill.Models;
using Distill.Models.Design;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Design;

/// <summary>
/// Latencies of a run: the profile cache first, else a real timing of a freshly built candidate on the deployment
/// device (weights do not change the cost of dense kernels), saved to the cache at once so an interrupted run keeps
/// what it measured.
/// </summary>
public sealed class ProfiledLatencySource(DesignFamily family, DeploymentShape shape, ProfileCache cache, LatencyProfiler profiler, Device device)
    : ILatencySource
{
    public ProfileCache Cache => cache;

    public LatencyMeasurement? Cached(Candidate candidate) => cache.TryGet(candidate.CacheKey, out var e) ? e.Latency : null;

    public LatencyMeasurement Measure(Candidate candidate)
    {
        using var model = ModelRegistry.Default.Get(family.Family).Build(candidate.Config);
        model.to(device);
        var m = MeasureModel(model, candidate.Config);
        cache.Put(candidate.CacheKey, new ProfileEntry
        {
            Family = family.Family, Label = candidate.Label, Inputs = family.InputsText(candidate.Config, shape), Latency = m,
        });
        cache.Save();
        return m;
    }

    /// <summary>Times an existing model (a trained or compressed student) at the deployment shape; not cached.</summary>
    public LatencyMeasurement MeasureModel(DistillModel model, IModelConfig config)
    {
        using var scope = torch.NewDisposeScope();
        var batch = family.SyntheticBatch(config, shape, device);
        return profiler.Measure(model, batch, device, shape.Threads);
    }
}
