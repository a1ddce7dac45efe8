using Distill.Models.Hf;
using System.Text.RegularExpressions;
using Distill.Hf;
using Distill.Models;
using Distill.Models.Init;
using Distill.Models.Pruning;

namespace Distill.Tests.Families;

/// <summary>
/// Everything a new family brings, in one descriptor: building, an HF architecture, a weight layout for teacher init,
/// prunable units and an opt-in feature. Registering it is the only other step.
/// </summary>
public sealed class ToyFamily : ModelFamily, IToyFeature
{
    public override string Key => "toy";
    public override string Description => "a toy family for the registration tests";
    public override Type ConfigType => typeof(ToyConfig);
    public override IReadOnlyList<string> Inputs { get; } = ["x"];
    public override DistillModel Build(IModelConfig config) => new ToyModel(As<ToyConfig>(config));

    public override HfFamily Hf { get; } = new("toy", "toy", "toy")
    {
        LoadConfig = _ => new ToyConfig(),
        HeadArchitecture = _ => "ToyForClassification",
        NumLabels = _ => 2,
        WithNumLabels = (c, _) => c,
        Architectures = [HfArchitecture.Head("ToyForClassification", "toy", "toy", _ => new ToyModel(new ToyConfig()))],
    };

    public override WeightLayout InitLayout { get; } = new(new Regex(@"(^|\.)layers\.(?<i>[0-9]+)\."));

    public override PrunableUnits Units { get; } = new ToyUnits();

    public string Greeting => "hello from toy";

    private sealed class ToyUnits : PrunableUnits
    {
        public override IReadOnlyList<PruneUnit> Kinds { get; } = [PruneUnit.Neurons];

        public override IReadOnlyList<UnitGroup> Groups(DistillModel model) =>
            [new UnitGroup("layers.0", ((ToyConfig)model.Config).Hidden, [new("layers.0.weight", 0), new("layers.0.bias", 0)], [new("classifier.weight", 1)])];

        public override IModelConfig Shrink(IModelConfig config, IReadOnlyList<UnitGroup> groups, IReadOnlyDictionary<string, int[]> keep) =>
            (ToyConfig)config with { Hidden = keep.TryGetValue("layers.0", out var k) ? k.Length : ((ToyConfig)config).Hidden };
    }
}
