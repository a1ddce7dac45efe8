using Distill.Models.Pruning;

namespace Distill.Models.Mlp;

/// <summary>The units of an <c>mlp</c>: the hidden neurons of each layer (<c>hidden_sizes</c>, per layer), with the next
/// layer's input columns.</summary>
internal sealed class MlpUnits : PrunableUnits
{
    public override IReadOnlyList<PruneUnit> Kinds { get; } = [PruneUnit.Neurons];

    public override IReadOnlyList<UnitGroup> Groups(DistillModel model)
    {
        var mlp = (MlpConfig)model.Config;
        var groups = new List<UnitGroup>();
        for (int i = 0; i < mlp.HiddenSizes.Count; i++)
        {
            string next = i + 1 < mlp.HiddenSizes.Count ? $"layers.{i + 1}" : "classifier";
            groups.Add(new UnitGroup($"layers.{i}", mlp.HiddenSizes[i],
                [new($"layers.{i}.weight", 0), new($"layers.{i}.bias", 0)], [new($"{next}.weight", 1)]) { Kind = PruneUnit.Neurons });
        }
        return groups;
    }

    public override IModelConfig Shrink(IModelConfig config, IReadOnlyList<UnitGroup> groups, IReadOnlyDictionary<string, int[]> keep)
    {
        var mlp = (MlpConfig)config;
        return mlp with { HiddenSizes = mlp.HiddenSizes.Select((h, i) => keep.TryGetValue($"layers.{i}", out var k) ? k.Length : h).ToList() };
    }
}
