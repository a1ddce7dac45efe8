using Distill.Models.Pruning;

namespace Distill.Models.Cnn;

/// <summary>The units of a <c>cnn</c>: the conv channels of each block (<c>channels</c>, with their BatchNorm entries and
/// the columns of the next block or of the head they feed) and the head's hidden neurons (<c>hidden_size</c>).</summary>
internal sealed class CnnUnits : PrunableUnits
{
    public override IReadOnlyList<PruneUnit> Kinds { get; } = [PruneUnit.Channels, PruneUnit.Neurons];

    public override IReadOnlyList<UnitGroup> Groups(DistillModel model)
    {
        var cnn = (CnnConfig)model.Config;
        var groups = new List<UnitGroup>();
        int side = cnn.FinalSide;
        for (int i = 0; i < cnn.Channels.Count; i++)
        {
            string p = $"blocks.{i}";
            // A channel of the last block is side² columns of the flattened head input.
            TensorSlice consumer = i + 1 < cnn.Channels.Count ? new($"blocks.{i + 1}.conv.weight", 1) : new("fc.weight", 1, side * side);
            groups.Add(new UnitGroup($"{p}.conv", cnn.Channels[i],
                [new($"{p}.conv.weight", 0), new($"{p}.norm.weight", 0), new($"{p}.norm.bias", 0),
                 new($"{p}.norm.running_mean", 0), new($"{p}.norm.running_var", 0)],
                [consumer]) { Kind = PruneUnit.Channels });
        }
        groups.Add(new UnitGroup("fc", cnn.HiddenSize, [new("fc.weight", 0), new("fc.bias", 0)], [new("classifier.weight", 1)]) { Kind = PruneUnit.Neurons });
        return groups;
    }

    public override IModelConfig Shrink(IModelConfig config, IReadOnlyList<UnitGroup> groups, IReadOnlyDictionary<string, int[]> keep)
    {
        var cnn = (CnnConfig)config;
        return cnn with
        {
            Channels = cnn.Channels.Select((c, i) => keep.TryGetValue($"blocks.{i}.conv", out var k) ? k.Length : c).ToList(),
            HiddenSize = keep.TryGetValue("fc", out var fc) ? fc.Length : cnn.HiddenSize,
        };
    }
}
