using Distill.Data;
using Distill.Data.Transfer;
using Distill.Losses;
using Distill.Models;
using Distill.Recipes;
using Distill.Tests.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Data.Transfer;

public class TransferDatasetTests
{
    /// <summary>Example i has input [i] and label i % 3.</summary>
    private sealed class Numbered(int count) : IDataset
    {
        public int Count => count;
        public int NumClasses => 3;
        public int Label(int index) => index % 3;

        public Batch GetBatch(ReadOnlySpan<int> indices)
        {
            var ids = indices.ToArray().Select(i => (long)i).ToArray();
            return new Batch(new Dictionary<string, Tensor> { ["input_ids"] = torch.tensor(ids).unsqueeze(1) },
                torch.tensor(ids.Select(i => i % 3).ToArray()));
        }
    }

    [Fact]
    public void TheLabelledPartIsTheTrainLimitSubsetAndTheRestComesFromBeyondIt()
    {
        var full = new Numbered(50);
        var limited = SubsetDataset.Limit(full, 12, seed: 7);
        var transfer = TransferDataset.Create(full, 12, seed: 7, unlabelled: 20);
        Assert.Equal((12, 20, 0, 32), (transfer.Labelled, transfer.BeyondLimit, transfer.Augmented, transfer.Count));
        using var scope = torch.NewDisposeScope();
        var all = transfer.GetBatch([.. Enumerable.Range(0, 32)]);
        var ids = all["input_ids"].squeeze(1).data<long>().ToArray();
        var labelledIds = limited.GetBatch([.. Enumerable.Range(0, 12)])["input_ids"].squeeze(1).data<long>().ToArray();
        Assert.Equal(labelledIds, ids[..12]);                                   // the same examples the baseline trains on
        Assert.Empty(ids[12..].Intersect(labelledIds));                         // never a labelled one again
        Assert.Equal(20, ids[12..].Distinct().Count());
        var labels = all.Labels!.data<long>().ToArray();
        Assert.Equal(ids[..12].Select(i => i % 3), labels[..12]);
        Assert.All(labels[12..], l => Assert.Equal(TransferDataset.IgnoreLabel, l));
        Assert.Equal(-1, transfer.Label(12));
        Assert.Equal((int)(ids[3] % 3), transfer.Label(3));
    }

    [Fact]
    public void TooFewExamplesBeyondTheLimitOrNoLimitAreErrorsNamingTheKey()
    {
        var full = new Numbered(30);
        var tooMany = Assert.Throws<InvalidInputException>(() => TransferDataset.Create(full, 20, seed: 1, unlabelled: 11));
        Assert.Contains("distill.transfer.unlabelled", tooMany.Message);
        Assert.Contains("at most 10", tooMany.Message);
        var noLimit = Assert.Throws<InvalidInputException>(() => TransferDataset.Create(full, null, seed: 1, unlabelled: 5));
        Assert.Contains("data.train_limit", noLimit.Message);
    }

    [Fact]
    public void SoftTargetCrossEntropySkipsUnlabelledRowsAndIsZeroWithoutAny()
    {
        using var scope = torch.NewDisposeScope();
        var s = torch.tensor(new float[] { 1, 2, 0, 0, 1, 3, 2, 2, 1 }, [3, 3]);
        var t = torch.tensor(new float[] { 0, 1, 0, 2, 0, 1, 1, 1, 0 }, [3, 3]);
        var mixed = SoftTargetLoss.Compute(s, t, torch.tensor(new long[] { 1, -100, 0 }), 2, 0.5);
        // Cross-entropy of the labelled rows 0 and 2 only, by hand: −log softmax(z)[y].
        double Ce(float[] z, int y) => -(z[y] - Math.Log(z.Sum(v => Math.Exp(v))));
        double expected = (Ce([1, 2, 0], 1) + Ce([2, 2, 1], 0)) / 2;
        Assert.Equal(expected, mixed.Ce!.item<float>(), 5);
        var none = SoftTargetLoss.Compute(s, t, torch.tensor(new long[] { -100, -100, -100 }), 2, 0.5);
        Assert.Equal(0.0, none.Ce!.item<float>());
        Assert.Equal(none.Kd.item<float>() * 0.5, none.Total.item<float>(), 6);
        // All labelled: the plain mean, as before.
        var labelled = SoftTargetLoss.Compute(s, t, torch.tensor(new long[] { 1, 0, 0 }), 2, 0.5);
        Assert.Equal(nn.functional.cross_entropy(s, torch.tensor(new long[] { 1, 0, 0 })).item<float>(), labelled.Ce!.item<float>());
    }

    [Fact]
    public void TheRecipeBindsTransferAndNeedsATrainLimit()
    {
        string dir = TestRecipes.TempDir();
        Directory.CreateDirectory(dir);
        try
        {
            string yaml = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "recipes", "quickstart.yaml"))
                .Replace("path: ../data/mnist", $"path: {TestRecipes.MnistDir}")
                .Replace("      weight: 0.5\n", "      weight: 0.5\n  transfer:\n    unlabelled: 100\n");
            string path = Path.Combine(dir, "r.yaml");
            File.WriteAllText(path, yaml);
            var error = Assert.Single(RecipeLoader.Load(path).Errors);
            Assert.Contains("distill.transfer.unlabelled", error.ToString());
            Assert.Contains("data.train_limit is not set", error.ToString());

            File.WriteAllText(path, yaml.Replace("  dataset: mnist\n", "  dataset: mnist\n  train_limit: 500\n"));
            var loaded = RecipeLoader.Load(path);
            Assert.Empty(loaded.Errors);
            Assert.Equal(new TransferSpec { Unlabelled = 100 }, loaded.Recipe!.Distill.Transfer);

            File.WriteAllText(path, yaml.Replace("    unlabelled: 100\n", "    augment: {copies: 2, probability: 0.3}\n"));
            Assert.Contains("needs data.tokenizer", Assert.Single(RecipeLoader.Load(path).Errors).ToString());
            File.WriteAllText(path, yaml.Replace("    unlabelled: 100\n", "    augment: {copies: 2, probability: 0.3}\n")
                .Replace("  dataset: mnist\n", $"  dataset: mnist\n  tokenizer: {TestPaths.Tokenizer}\n"));
            loaded = RecipeLoader.Load(path);
            Assert.Empty(loaded.Errors);
            Assert.Equal(new AugmentSpec { Copies = 2, Probability = 0.3, Neighbours = 15 }, loaded.Recipe!.Distill.Transfer!.Augment);

            File.WriteAllText(path, yaml.Replace("    unlabelled: 100\n", "    augment: {copies: 0}\n"));
            Assert.Contains("distill.transfer.augment.copies", Assert.Single(RecipeLoader.Load(path).Errors).ToString());
            File.WriteAllText(path, yaml.Replace("  transfer:\n    unlabelled: 100\n", "  transfer: {}\n"));
            Assert.Contains("the transfer set is empty", Assert.Single(RecipeLoader.Load(path).Errors).ToString());
        }
        finally
        {
            TestRecipes.DeleteDir(dir);
        }
    }
}
