using Distill.Bench;
using Distill.Checkpoints;
using Distill.Recipes;
using Distill.Tests.Checkpoints;
using Distill.Text;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Bench.Tests;

/// <summary>The tokenized-text file both sides of <c>distill bench</c> read: fixed padding, labels, and clear errors.</summary>
public class BenchTokenDatasetTests
{
    private static BertEncoding Enc(params int[] ids) => new(ids, new int[ids.Length], Enumerable.Repeat(1, ids.Length).ToArray());

    [Fact]
    public void WrittenExamplesComeBackPaddedToTheFixedLength()
    {
        using var dir = new TempDir();
        string path = dir.File("train.safetensors");
        BenchTokenDataset.Write(path, [Enc(101, 7, 102), Enc(101, 102), Enc(101, 5, 6, 102)], [1, 0, 1], length: 5, padTokenId: 0, numClasses: 2);

        var data = BenchTokenDataset.Open(path);
        Assert.Equal(3, data.Count);
        Assert.Equal(5, data.Length);
        Assert.Equal(2, data.NumClasses);
        Assert.Equal([1, 0, 1], Enumerable.Range(0, 3).Select(data.Label));

        var batch = data.GetBatch([2, 0]);
        Assert.Equal([2L, 5L], batch["input_ids"].shape);
        Assert.Equal(new long[] { 101, 5, 6, 102, 0, 101, 7, 102, 0, 0 }, batch["input_ids"].data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 1, 1, 1, 0, 0 }, batch["attention_mask"].data<long>().ToArray());
        Assert.Equal(new long[10], batch["token_type_ids"].data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1 }, batch.Labels!.data<long>().ToArray());
    }

    [Fact]
    public void TheFileHoldsInt64TensorsUnderThePeersNames()
    {
        using var dir = new TempDir();
        string path = dir.File("dev.safetensors");
        BenchTokenDataset.Write(path, [Enc(101, 102), Enc(101, 9, 102)], [0, 1], length: 4, padTokenId: 3, numClasses: 2);
        var tensors = SafeTensors.Load(path);
        Assert.Equal(["attention_mask", "input_ids", "labels", "token_type_ids"], tensors.Keys.Order(StringComparer.Ordinal));
        Assert.All(tensors.Values, t => Assert.Equal(ScalarType.Int64, t.dtype));
        Assert.Equal(new long[] { 101, 102, 3, 3, 101, 9, 102, 3 }, tensors["input_ids"].data<long>().ToArray());
        Assert.Equal([2L], tensors["labels"].shape);
    }

    [Fact]
    public void AnExampleLongerThanTheFixedLengthIsRefused()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ArgumentException>(() =>
            BenchTokenDataset.Write(dir.File("x.safetensors"), [Enc(101, 1, 2, 3, 102)], [0], length: 4, padTokenId: 0, numClasses: 2));
        Assert.Contains("5 tokens", e.Message);
        Assert.Contains("max_length 4", e.Message);
    }

    [Fact]
    public void AFileWithoutLabelsOrWithWrongDtypesNamesTheProblem()
    {
        using var dir = new TempDir();
        string noLabels = dir.File("a.safetensors");
        var ids = torch.zeros(2, 3, ScalarType.Int64);
        SafeTensors.Save(noLabels, new Dictionary<string, Tensor> { ["input_ids"] = ids, ["token_type_ids"] = ids, ["attention_mask"] = ids });
        var e = Assert.Throws<InvalidDataException>(() => BenchTokenDataset.Open(noLabels));
        Assert.Contains(noLabels, e.Message);
        Assert.Contains("'labels'", e.Message);

        string floatIds = dir.File("b.safetensors");
        SafeTensors.Save(floatIds, new Dictionary<string, Tensor>
        {
            ["input_ids"] = torch.zeros(2, 3), ["token_type_ids"] = ids, ["attention_mask"] = ids, ["labels"] = torch.zeros(2, ScalarType.Int64),
        });
        e = Assert.Throws<InvalidDataException>(() => BenchTokenDataset.Open(floatIds));
        Assert.Contains("'input_ids' is Float32", e.Message);

        string ragged = dir.File("c.safetensors");
        SafeTensors.Save(ragged, new Dictionary<string, Tensor>
        {
            ["input_ids"] = ids, ["token_type_ids"] = torch.zeros(2, 4, ScalarType.Int64), ["attention_mask"] = ids, ["labels"] = torch.zeros(2, ScalarType.Int64),
        });
        e = Assert.Throws<InvalidDataException>(() => BenchTokenDataset.Open(ragged));
        Assert.Contains("'token_type_ids' is (2, 4)", e.Message);

        Assert.Throws<FileNotFoundException>(() => BenchTokenDataset.Open(dir.File("missing.safetensors")));
    }

    [Fact]
    public void TheBenchOpensSplitsThroughItsDatasetKind()
    {
        using var dir = new TempDir();
        BenchTokenDataset.Write(BenchTokenDataset.SplitFile(dir.Path, "train"), [Enc(101, 102)], [1], 4, 0, 2);
        var spec = new DataSpec { Dataset = BenchTokenDataset.Key, Path = dir.Path, EvalSplit = "dev", MaxLength = 4 };
        var kind = BenchWorker.DataKind(BenchTokenDataset.Key);
        Assert.Same(BenchTokenDataset.Kind, kind);
        Assert.Equal(["input_ids", "token_type_ids", "attention_mask"], kind.Inputs(spec).Select(i => i.Name));
        Assert.All(kind.Inputs(spec), i => Assert.Equal([4L], i.Shape));
        Assert.Equal(1, kind.Open(spec, "train").Count);
        var problems = kind.Validate(spec).ToList();
        Assert.Single(problems);
        Assert.Contains("dev.safetensors", problems[0].Message);
        Assert.Equal("mnist", BenchWorker.DataKind("mnist").Key);
    }
}
