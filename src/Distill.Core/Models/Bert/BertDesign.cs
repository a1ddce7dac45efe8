using Distill.Models.Design;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>Design space of the <c>bert</c> family; T = <c>deployment.sequence_length</c> (default <c>data.max_length</c>); input MACs = the pooler's B·H².</summary>
public sealed class BertDesign : TransformerDesign<BertConfig>
{
    public override string Family => "bert";

    protected override int Tokens(BertConfig config, DeploymentShape shape) =>
        shape.SequenceLength ?? throw new ArgumentException("bert: the deployment shape has no sequence_length.");

    protected override double InputMacs(BertConfig c, DeploymentShape shape) => (double)shape.BatchSize * c.HiddenSize * c.HiddenSize;

    public override bool IsEmbeddingTable(string parameterName) =>
        parameterName.EndsWith("word_embeddings.weight", StringComparison.Ordinal)
        || parameterName.EndsWith("position_embeddings.weight", StringComparison.Ordinal)
        || parameterName.EndsWith("token_type_embeddings.weight", StringComparison.Ordinal);

    public override IEnumerable<(string Key, string Message)> ValidateDeployment(DeploymentSpec deployment, IModelConfig baseConfig, int dataMaxLength)
    {
        var b = Base(baseConfig);
        int t = deployment.SequenceLength ?? dataMaxLength;
        if (t > b.MaxPositionEmbeddings)
            yield return (deployment.SequenceLength is null ? "deployment" : "deployment.sequence_length",
                $"{t} tokens exceed the student's max_position_embeddings {b.MaxPositionEmbeddings}; shorten it or raise student.config.max_position_embeddings");
        if (deployment.ImageSize is not null) yield return ("deployment.image_size", "does not apply to the bert family (text); remove it");
        if (deployment.AudioLength is not null) yield return ("deployment.audio_length", "does not apply to the bert family (text); remove it");
    }

    public override DeploymentShape Resolve(DeploymentSpec deployment, IModelConfig baseConfig, int dataMaxLength, int threads, string device) =>
        new(deployment.BatchSize, threads, device) { SequenceLength = deployment.SequenceLength ?? dataMaxLength };

    public override IReadOnlyList<DesignInput> Inputs(IModelConfig config, DeploymentShape shape)
    {
        long[] s = [shape.BatchSize, Tokens(Base(config), shape)];
        return
        [
            new DesignInput("input_ids", s, ScalarType.Int64),
            new DesignInput("attention_mask", s, ScalarType.Int64),
            new DesignInput("token_type_ids", s, ScalarType.Int64),
        ];
    }
}
