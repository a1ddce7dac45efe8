using Distill.Models.Hf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Position-wise feed-forward block: intermediate_dense → hidden_act → dropout (activation_dropout) →
/// output_dense → dropout (hidden_dropout).
/// </summary>
public sealed class Wav2Vec2FeedForward : nn.Module<Tensor, Tensor>
{
    private readonly SeededDropout intermediate_dropout;
    private readonly Linear intermediate_dense;
    private readonly Linear output_dense;
    private readonly SeededDropout output_dropout;
    private readonly Func<Tensor, Tensor> _activation;

    public Wav2Vec2FeedForward(Wav2Vec2Config config) : base(nameof(Wav2Vec2FeedForward))
    {
        intermediate_dropout = new SeededDropout(config.ActivationDropout);
        intermediate_dense = ParamInit.Redraw(nn.Linear(config.HiddenSize, config.IntermediateSize));
        output_dense = ParamInit.Redraw(nn.Linear(config.IntermediateSize, config.HiddenSize));
        output_dropout = new SeededDropout(config.HiddenDropout);
        Wav2Vec2Init.Linear(intermediate_dense, config.InitializerRange);
        Wav2Vec2Init.Linear(output_dense, config.InitializerRange);
        _activation = HfActivation.Get(config.HiddenAct, "wav2vec2", "hidden_act");
        RegisterComponents();
    }

    /// <summary>(B, T, D) → (B, T, D).</summary>
    public override Tensor forward(Tensor x)
    {
        var h = intermediate_dropout.call(_activation(intermediate_dense.call(x))); // (B, T, intermediate)
        return output_dropout.call(output_dense.call(h));
    }
}
