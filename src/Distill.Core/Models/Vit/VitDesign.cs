using Distill.Models.Design;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>Design space of the <c>vit</c> family; T = (image_size / patch_size)² + 1; input MACs = the patch projection B·N·C·P²·H and the pooler-free head.</summary>
public sealed class VitDesign : TransformerDesign<ViTConfig>
{
    public override string Family => "vit";

    /// <summary>A ViT without encoder layers is still a model (patch embedding, norm, head).</summary>
    protected override bool AllowsNoLayers => true;

    protected override int Tokens(ViTConfig c, DeploymentShape shape) => c.SequenceLength;

    protected override double InputMacs(ViTConfig c, DeploymentShape shape) =>
        (double)shape.BatchSize * c.PatchesPerSide * c.PatchesPerSide * c.NumChannels * c.PatchSize * c.PatchSize * c.HiddenSize
        + (double)shape.BatchSize * c.HiddenSize * c.NumLabels;

    public override IEnumerable<(string Key, string Message)> ValidateDeployment(DeploymentSpec deployment, IModelConfig baseConfig, int dataMaxLength)
    {
        var b = Base(baseConfig);
        if (deployment.ImageSize is { } s && s != b.ImageSize)
            yield return ("deployment.image_size", $"is {s}, but the student is built for {b.ImageSize} px images (student.config.image_size); make them agree");
        if (deployment.SequenceLength is not null) yield return ("deployment.sequence_length", "does not apply to the vit family (images); remove it");
        if (deployment.AudioLength is not null) yield return ("deployment.audio_length", "does not apply to the vit family (images); remove it");
    }

    public override DeploymentShape Resolve(DeploymentSpec deployment, IModelConfig baseConfig, int dataMaxLength, int threads, string device) =>
        new(deployment.BatchSize, threads, device) { ImageSize = Base(baseConfig).ImageSize };

    public override IReadOnlyList<DesignInput> Inputs(IModelConfig config, DeploymentShape shape)
    {
        var c = Base(config);
        return [new DesignInput("pixel_values", [shape.BatchSize, c.NumChannels, c.ImageSize, c.ImageSize], ScalarType.Float32)];
    }
}
