using Distill.Compression.Pruning;
using Distill.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

public class MagnitudePruningTests
{
    private static float[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float32).flatten().data<float>().ToArray();

    private static bool[] Bools(Tensor t) => t.cpu().flatten().data<bool>().ToArray();

    /// <summary>The indices of the k smallest |values| by an independent sort (ties: lower index first).</summary>
    private static HashSet<int> Smallest(float[] values, int k) =>
        values.Select((v, i) => (Abs: Math.Abs(v), i)).OrderBy(p => p.Abs).ThenBy(p => p.i).Take(k).Select(p => p.i).ToHashSet();

    [Fact]
    public void LayerMask_RemovesExactlyTheSmallestMagnitudes()
    {
        var g = ParamInit.Seeded(1);
        using var w = torch.randn(12, 10, generator: g);
        using var ones = torch.ones(12, 10, ScalarType.Bool);
        using var mask = MagnitudePruning.LayerMask(w, ones, 0.7);
        var expectedPruned = Smallest(Values(w), 84);
        var keep = Bools(mask);
        for (int i = 0; i < keep.Length; i++) Assert.Equal(!expectedPruned.Contains(i), keep[i]);
    }

    [Fact]
    public void LayerMask_CountIsExactWithTies_AndNeverRevivesMaskedEntries()
    {
        // 40 entries: 20 equal values (a tie at the threshold) and 20 distinct larger ones.
        var data = Enumerable.Range(0, 40).Select(i => i < 20 ? 0.5f : 1f + i).ToArray();
        using var w = torch.tensor(data).view(4, 10);
        var prior = Enumerable.Repeat(true, 40).ToArray();
        prior[39] = false; // the largest weight was pruned before: it must stay pruned
        using var current = torch.tensor(prior).view(4, 10);
        using var mask = MagnitudePruning.LayerMask(w, current, 0.25);
        var keep = Bools(mask);
        Assert.Equal(30, keep.Count(k => k));
        Assert.False(keep[39]);
        // The 9 live entries removed besides index 39 are the first 9 of the tie (ties broken by index).
        for (int i = 0; i < 9; i++) Assert.False(keep[i], $"index {i}");
        for (int i = 9; i < 39; i++) Assert.True(keep[i], $"index {i}");

        // Asking for less sparsity than the prior mask already has keeps the prior mask.
        using var lower = MagnitudePruning.LayerMask(w, mask, 0.05);
        Assert.Equal(keep, Bools(lower));
    }

    [Fact]
    public void GlobalPruning_UsesOneThresholdAcrossLayers()
    {
        var g = ParamInit.Seeded(2);
        using var model = ParamInit.Build(g, () => new Distill.Models.Mlp.MlpModel(new Distill.Models.Mlp.MlpConfig { InputSize = 20, HiddenSizes = [30, 10] }));
        using (torch.no_grad())
        {
            // Scale the second layer down so that a global threshold prunes it much harder than the first.
            foreach (var (name, p) in model.named_parameters())
                if (name == "layers.1.weight") p.mul_(0.1);
        }
        var selected = PruneSelector.Select(model, null, null);
        Assert.Equal(["layers.0.weight", "layers.1.weight"], selected.Select(s => s.Name).Order());
        using var masks = new MaskSet(selected);
        var all = selected.SelectMany(s => Values(s.Weight)).ToArray();
        int k = (int)Math.Round(0.6 * all.Length, MidpointRounding.AwayFromZero);
        var expected = Smallest(all, k);

        MagnitudePruning.PruneGlobal(masks, 0.6);
        var keep = selected.SelectMany(s => Bools(masks[s.Name])).ToArray();
        for (int i = 0; i < keep.Length; i++) Assert.Equal(!expected.Contains(i), keep[i]);
        Assert.True(masks.Sparsity("layers.1.weight") > masks.Sparsity("layers.0.weight") + 0.2);
        Assert.Equal(0.6, masks.OverallSparsity(), 3);

        masks.Apply();
        var after = selected.SelectMany(s => Values(s.Weight)).ToArray();
        for (int i = 0; i < after.Length; i++) Assert.Equal(keep[i] ? all[i] : 0f, after[i]);
    }

    [Fact]
    public void Selector_DefaultsExcludeClassifier_PatternsSelectModules()
    {
        using var model = new Distill.Models.Mlp.MlpModel(new Distill.Models.Mlp.MlpConfig { InputSize = 8, HiddenSizes = [6, 4] });
        Assert.Equal(["layers.0.weight", "layers.1.weight"], PruneSelector.Select(model, null, null).Select(s => s.Name).Order());
        Assert.Equal(["classifier.weight", "layers.0.weight", "layers.1.weight"], PruneSelector.Select(model, null, []).Select(s => s.Name).Order());
        Assert.Equal(["layers.1.weight"], PruneSelector.Select(model, ["layers.?"], ["layers.0"]).Select(s => s.Name));
        Assert.True(new ModuleGlob("bert.encoder.layer.*.attention.*").IsMatch("bert.encoder.layer.11.attention.self.query"));
        Assert.False(new ModuleGlob("layers.?").IsMatch("layers.10"));
        Assert.False(new ModuleGlob("layers").IsMatch("layers.0"));
    }

    [Fact]
    public void CubicSchedule_FollowsZhuGupta()
    {
        var s = new CubicSparsitySchedule(0.1, 0.9, 10, 110, 20);
        Assert.Equal(0, s.At(9));
        Assert.Equal(0.1, s.At(10), 12);
        Assert.Equal(0.1, s.At(29), 12); // held until the next update step
        // t = 30: progress 0.2 → 0.9 + (0.1 − 0.9)·0.8³ = 0.4904
        Assert.Equal(0.4904, s.At(30), 12);
        // t = 70: progress 0.6 → 0.9 − 0.8·0.4³ = 0.8488
        Assert.Equal(0.8488, s.At(70), 12);
        Assert.Equal(0.9, s.At(110), 12);
        Assert.Equal(0.9, s.At(500), 12);
        Assert.Equal([10L, 30, 50, 70, 90, 110], Enumerable.Range(0, 200).Select(i => (long)i).Where(s.IsUpdateStep));
        // end_step not on the frequency grid: it is an update step of its own.
        var odd = new CubicSparsitySchedule(0, 0.5, 0, 25, 10);
        Assert.Equal([0L, 10, 20, 25], Enumerable.Range(0, 40).Select(i => (long)i).Where(odd.IsUpdateStep));
        Assert.Throws<ArgumentException>(() => new CubicSparsitySchedule(0, 0.5, 10, 10, 1));
    }
}
