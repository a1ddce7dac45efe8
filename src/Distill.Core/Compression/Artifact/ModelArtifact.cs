using System.Text.Json;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Artifact;

/// <summary>
/// Whole models to and from artifacts. The header carries the model family and its config serialised exactly as in a
/// run checkpoint's <c>state.json</c>, so <see cref="Load"/> rebuilds the model without the recipe; the records carry
/// the full state dict (parameters and persistent buffers), loaded strictly. When the header lists activation ranges,
/// the rebuilt model simulates those integer activations (forward pre-hooks, see <see cref="Quantization.ActivationQuantizers"/>).
/// </summary>
public static class ModelArtifact
{
    /// <summary>Plans the artifact of <paramref name="model"/>'s state dict (and, optionally, the activation ranges it runs with).</summary>
    public static ArtifactPlan Plan(DistillModel model, ArtifactOptions options, IReadOnlyList<Quantization.ActivationRange>? activations = null)
    {
        string config = JsonSerializer.Serialize(model.Config, model.Config.GetType());
        return ArtifactEncoder.Plan(model.Family, config, model.state_dict().Select(kv => (kv.Key, kv.Value)), options, activations);
    }

    /// <summary>Builds the model an artifact describes and loads its decoded weights (every key must match, in name and shape).</summary>
    public static DistillModel Load(string path, ModelRegistry registry)
    {
        using var artifact = ArtifactReader.Read(path, (family, config) => Layout(path, family, config, registry));
        return Build(artifact, registry);
    }

    /// <summary>Names and shapes of the state dict of the model <paramref name="family"/>/<paramref name="configJson"/>
    /// describe, in order: what a layout-1 artifact's records are.</summary>
    private static IReadOnlyList<(string Name, long[] Shape)> Layout(string path, string family, string configJson, ModelRegistry registry)
    {
        using var model = Create(path, family, configJson, registry);
        return model.state_dict().Select(kv => (kv.Key, kv.Value.shape.ToArray())).ToList();
    }

    public static DistillModel Build(CompressedArtifact artifact, ModelRegistry registry)
    {
        var model = Create(artifact.Path, artifact.Family, artifact.ConfigJson, registry);
        try
        {
            var expected = model.state_dict();
            var missing = expected.Keys.Except(artifact.Tensors.Keys).ToList();
            var unexpected = artifact.Tensors.Keys.Except(expected.Keys).ToList();
            var badShape = expected.Keys.Intersect(artifact.Tensors.Keys)
                .Where(k => !expected[k].shape.SequenceEqual(artifact.Tensors[k].shape))
                .Select(k => $"{k}: model [{string.Join(", ", expected[k].shape)}], artifact [{string.Join(", ", artifact.Tensors[k].shape)}]").ToList();
            if (missing.Count + unexpected.Count + badShape.Count > 0)
                throw new InvalidDataException(
                    $"{artifact.Path} does not match the {artifact.Family} model of its own header: " +
                    (missing.Count > 0 ? $"missing tensors [{string.Join(", ", missing)}]; " : "") +
                    (unexpected.Count > 0 ? $"unexpected tensors [{string.Join(", ", unexpected)}]; " : "") +
                    (badShape.Count > 0 ? $"shape mismatches [{string.Join("; ", badShape)}]; " : "") +
                    "the file was written for another model.");
            using var _ = torch.no_grad();
            foreach (var (key, target) in expected) target.copy_(artifact.Tensors[key]);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        if (artifact.Activations.Count > 0)
        {
            try { Quantization.ActivationQuantizers.Frozen(artifact.Activations).Attach(model); }
            catch (ArgumentException e)
            {
                model.Dispose();
                throw new InvalidDataException($"{artifact.Path}: {e.Message}", e);
            }
        }
        model.eval();
        return model;
    }

    /// <summary>The untrained model of the header's family and config.</summary>
    private static DistillModel Create(string path, string familyKey, string configJson, ModelRegistry registry)
    {
        if (!registry.TryGet(familyKey, out var family))
            throw new InvalidDataException($"{path}: model family '{familyKey}' is not registered; known: {string.Join(", ", registry.Keys.Order())}.");
        IModelConfig config;
        try
        {
            config = (IModelConfig?)JsonSerializer.Deserialize(configJson, family.ConfigType)
                     ?? throw new InvalidDataException($"{path}: the header's config is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the header's {familyKey} config is not valid JSON for that family: {e.Message}", e);
        }
        return family.Build(config);
    }
}
