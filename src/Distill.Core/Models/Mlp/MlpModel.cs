using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Mlp;

/// <summary>
/// Flatten → (Linear → ReLU → Dropout) per hidden layer → Linear classifier.
/// Module paths: <c>layers.{i}</c> (hidden Linears), <c>classifier</c>.
/// Hidden states: the flattened input, then each hidden activation (B, D).
/// </summary>
public sealed class MlpModel : DistillModel
{
    private readonly ModuleList<Linear> layers;
    private readonly Linear classifier;
    private readonly SeededDropout dropout;
    private readonly MlpConfig _config;

    public MlpModel(MlpConfig config) : base("mlp")
    {
        _config = config;
        layers = new ModuleList<Linear>();
        int inFeatures = config.InputSize;
        foreach (int width in config.HiddenSizes)
        {
            layers.Add(ParamInit.Redraw(nn.Linear(inFeatures, width)));
            inFeatures = width;
        }
        classifier = ParamInit.Redraw(nn.Linear(inFeatures, config.NumLabels));
        dropout = new SeededDropout(config.Dropout);
        RegisterComponents();
    }

    public override string Family => "mlp";
    public override int NumHiddenLayers => _config.HiddenSizes.Count;
    public override int NumLabels => _config.NumLabels;
    public override IModelConfig Config => _config;

    public override ModelOutput forward(Batch batch)
    {
        var x = batch["pixel_values"].flatten(1); // (B, input_size)
        if (x.shape[1] != _config.InputSize)
            throw new ArgumentException($"mlp: input has {x.shape[1]} features per example but config.input_size is {_config.InputSize}.");
        var hidden = new List<Tensor> { x };
        foreach (var layer in layers)
        {
            x = dropout.call(nn.functional.relu(layer.call(x)));
            hidden.Add(x);
        }
        return new ModelOutput(classifier.call(x)) { HiddenStates = hidden };
    }
}
