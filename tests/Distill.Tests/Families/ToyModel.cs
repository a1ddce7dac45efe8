using Distill.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Tests.Families;

/// <summary>The toy model: <c>layers.0</c> (4 → hidden) and <c>classifier</c> (hidden → 2).</summary>
public sealed class ToyModel : DistillModel
{
    private readonly ModuleList<Linear> layers = new();
    private readonly Linear classifier;
    private readonly ToyConfig _config;

    public ToyModel(ToyConfig config) : base("toy")
    {
        _config = config;
        layers.Add(nn.Linear(4, config.Hidden));
        classifier = nn.Linear(config.Hidden, 2);
        RegisterComponents();
    }

    public override string Family => "toy";
    public override int NumHiddenLayers => 1;
    public override int NumLabels => 2;
    public override IModelConfig Config => _config;

    public override ModelOutput forward(Batch batch) =>
        new(classifier.call(nn.functional.relu(layers[0].call(batch["x"]))));
}
