using Distill.Data;
using Distill.Data.Transfer;
using Distill.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Data.Transfer;

public class WordNeighbourAugmenterTests
{
    // ids:                       0        1        2        3      4      5      6      7      8       9
    private static readonly string[] Vocab = ["[PAD]", "[CLS]", "[SEP]", "cat", "dog", "car", "##s", "bus", "tree", "[unused0]"];

    // 2-D embeddings whose cosine order is known by hand: cat·dog 0.994, cat·bus 0.110, cat·car 0, cat·tree −1;
    // car·bus 0.994, car·dog 0.110. Specials and "##s" sit right next to cat but must never be candidates.
    private static Tensor Embeddings() => torch.tensor(new float[]
    {
        1, 0.01f, 1, 0.02f, 1, 0.03f, 1, 0, 0.9f, 0.1f, 0, 1, 1, 0.001f, 0.1f, 0.9f, -1, 0, 1, 0.005f,
    }, [10, 2]);

    [Fact]
    public void NeighboursAreTheMostSimilarWholeWordsByCosine()
    {
        var augmenter = new WordNeighbourAugmenter(Vocab, Embeddings(), neighbours: 2);
        Assert.Equal([4, 7], augmenter.NeighboursOf(3));   // cat → dog, bus
        Assert.Equal([7, 4], augmenter.NeighboursOf(5));   // car → bus, dog
        Assert.Empty(augmenter.NeighboursOf(1));           // [CLS] is never replaced
        Assert.Empty(augmenter.NeighboursOf(6));           // nor is a continuation piece
    }

    [Fact]
    public void OnlyWholeWordsAreReplacedAndOnlyByTheirNeighbours()
    {
        var augmenter = new WordNeighbourAugmenter(Vocab, Embeddings(), neighbours: 2);
        long[] ids = [1, 3, 5, 6, 8, 2, 0];   // [CLS] cat car ##s tree [SEP] [PAD]; "car" is part of "cars"
        var all = augmenter.Augment(ids, length: 6, probability: 1.0, new Random(1));
        Assert.Equal(1, all[0]);
        Assert.Contains(all[1], new long[] { 4, 7 });
        Assert.Equal([5, 6], all[2..4]);                   // "cars" kept whole
        Assert.Contains(all[4], augmenter.NeighboursOf(8).Select(i => (long)i));
        Assert.Equal([2, 0], all[5..]);
        Assert.Equal(ids, augmenter.Augment(ids, 6, probability: 1e-12, new Random(1)));
    }

    [Fact]
    public void AMismatchedTableIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new WordNeighbourAugmenter(Vocab[..5], Embeddings(), 2));
        Assert.Contains("share one vocabulary", e.Message);
    }

    /// <summary>Example i: [CLS] + (2 + i % 4) words + [SEP], padded to the batch's longest.</summary>
    private sealed class Sentences : IDataset
    {
        public int Count => 10;
        public int NumClasses => 2;
        public int Label(int index) => index % 2;

        public static long[] Tokens(int i) => [1, .. Enumerable.Range(0, 2 + i % 4).Select(j => (long)(new[] { 3, 5, 7, 8, 4 }[(i + j) % 5])), 2];

        public Batch GetBatch(ReadOnlySpan<int> indices)
        {
            var rows = indices.ToArray().Select(Tokens).ToArray();
            int t = rows.Max(r => r.Length);
            var ids = rows.SelectMany(r => r.Concat(Enumerable.Repeat(0L, t - r.Length))).ToArray();
            var mask = rows.SelectMany(r => Enumerable.Repeat(1L, r.Length).Concat(Enumerable.Repeat(0L, t - r.Length))).ToArray();
            return new Batch(new Dictionary<string, Tensor>
            {
                ["input_ids"] = torch.tensor(ids, [rows.Length, t]),
                ["attention_mask"] = torch.tensor(mask, [rows.Length, t]),
            }, torch.tensor(indices.ToArray().Select(i => (long)(i % 2)).ToArray()));
        }
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void VariantsAreUnlabelledFixedPerSeedAndKeepTheMask()
    {
        var augment = new AugmentSpec { Copies = 3, Probability = 0.5, Neighbours = 2 };
        TransferDataset Make(long seed) => TransferDataset.Create(new Sentences(), null, seed, 0, augment,
            new WordNeighbourAugmenter(Vocab, Embeddings(), augment.Neighbours));
        var data = Make(seed: 11);
        Assert.Equal((10, 0, 30, 40), (data.Labelled, data.BeyondLimit, data.Augmented, data.Count));
        using var scope = torch.NewDisposeScope();
        var every = data.GetBatch([.. Enumerable.Range(0, 40)]);
        var ids = every["input_ids"];
        var source = new Sentences().GetBatch([.. Enumerable.Range(0, 10)]);
        Assert.True(Same(ids.narrow(0, 0, 10), source["input_ids"]));      // the labelled rows are untouched
        Assert.Equal(source.Labels!.data<long>().ToArray(), every.Labels!.data<long>().ToArray()[..10]);
        Assert.All(every.Labels.data<long>().ToArray()[10..], l => Assert.Equal(TransferDataset.IgnoreLabel, l));
        for (int c = 1; c <= 3; c++)
            Assert.True(Same(every["attention_mask"].narrow(0, 10 * c, 10), source["attention_mask"]));
        Assert.False(Same(ids.narrow(0, 10, 30), ids.narrow(0, 0, 10).repeat(3, 1))); // some words replaced

        // A row is the same whatever it is batched with, and in a dataset built again with the same seed.
        var alone = Make(seed: 11).GetBatch([27, 3]);
        long t = ids.shape[1], tAlone = alone["input_ids"].shape[1];
        Assert.True(Same(alone["input_ids"][0].narrow(0, 0, Math.Min(t, tAlone)), ids[27].narrow(0, 0, Math.Min(t, tAlone))));
        var other = Make(seed: 12).GetBatch([.. Enumerable.Range(0, 40)]);
        Assert.False(Same(other["input_ids"], ids));
    }
}
