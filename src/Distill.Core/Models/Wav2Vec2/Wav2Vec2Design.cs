using Distill.Models.Design;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Design space of the <c>wav2vec2</c> family's transformer (the conv feature encoder stays as in the student config,
/// so its cost is part of the constant). T = frames after the feature encoder (each conv: T ← ⌊(T − k)/s⌋ + 1 from
/// <c>deployment.audio_length</c> samples). Input MACs: the feature projection B·T·C·H, the grouped positional
/// convolution B·T·H·(H/G)·K and the classification head. H must be divisible by the G positional-convolution groups.
/// </summary>
public sealed class Wav2Vec2Design : TransformerDesign<Wav2Vec2Config>
{
    public override string Family => "wav2vec2";

    protected override string? HiddenSizeProblem(Wav2Vec2Config b, int hidden) =>
        hidden % b.NumConvPosEmbeddingGroups == 0
            ? null
            : $"hidden size {hidden} is not divisible by the {b.NumConvPosEmbeddingGroups} groups of the positional convolution (num_conv_pos_embedding_groups)";

    /// <summary>Frames the feature encoder makes of <paramref name="samples"/> samples (0 when too short).</summary>
    public static int Frames(Wav2Vec2Config c, long samples)
    {
        long t = samples;
        for (int i = 0; i < c.ConvKernel.Count && i < c.ConvStride.Count; i++)
        {
            if (t < c.ConvKernel[i]) return 0;
            t = (t - c.ConvKernel[i]) / c.ConvStride[i] + 1;
        }
        return (int)t;
    }

    protected override int Tokens(Wav2Vec2Config c, DeploymentShape shape) =>
        Frames(c, shape.AudioLength ?? throw new ArgumentException("wav2vec2: the deployment shape has no audio_length."));

    protected override double InputMacs(Wav2Vec2Config c, DeploymentShape shape)
    {
        double b = shape.BatchSize, t = Tokens(c, shape), h = c.HiddenSize;
        double head = c.UseWeightedLayerSum ? 0 : b * (h * c.ClassifierProjSize + (double)c.ClassifierProjSize * Math.Max(2, c.NumLabelsValue ?? 2));
        return b * t * c.ConvDim[^1] * h + b * t * h * (h / c.NumConvPosEmbeddingGroups) * c.NumConvPosEmbeddings + head;
    }

    public override IEnumerable<(string Key, string Message)> ValidateDeployment(DeploymentSpec deployment, IModelConfig baseConfig, int dataMaxLength)
    {
        var b = Base(baseConfig);
        if (deployment.AudioLength is not { } samples)
            yield return ("deployment.audio_length", "the wav2vec2 family needs deployment.audio_length (samples per clip, e.g. 16000 for one second at 16 kHz)");
        else if (Frames(b, samples) < 1)
            yield return ("deployment.audio_length", $"{samples} samples are shorter than the feature encoder's receptive field (no frame comes out); use a longer clip");
        if (deployment.SequenceLength is not null) yield return ("deployment.sequence_length", "does not apply to the wav2vec2 family (audio); use audio_length");
        if (deployment.ImageSize is not null) yield return ("deployment.image_size", "does not apply to the wav2vec2 family (audio); remove it");
    }

    public override DeploymentShape Resolve(DeploymentSpec deployment, IModelConfig baseConfig, int dataMaxLength, int threads, string device) =>
        new(deployment.BatchSize, threads, device) { AudioLength = deployment.AudioLength };

    public override IReadOnlyList<DesignInput> Inputs(IModelConfig config, DeploymentShape shape)
    {
        var c = Base(config);
        long[] s = [shape.BatchSize, shape.AudioLength ?? 0];
        return c.FeatExtractNorm == "layer"
            ? [new DesignInput("input_values", s, ScalarType.Float32), new DesignInput("attention_mask", s, ScalarType.Int32)]
            : [new DesignInput("input_values", s, ScalarType.Float32)];
    }
}
