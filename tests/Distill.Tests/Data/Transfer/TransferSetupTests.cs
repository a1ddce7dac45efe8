using Distill.Data;
using Distill.Data.Transfer;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Data.Transfer;

public sealed class TransferSetupTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "distill-tests", "transfer-" + Guid.NewGuid().ToString("N"));

    private sealed class Empty : IDataset
    {
        public int Count => 8;
        public int NumClasses => 2;
        public int Label(int index) => index % 2;
        public Batch GetBatch(ReadOnlySpan<int> indices) => throw new NotSupportedException();
    }

    private string Vocab(int words)
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllLines(Path.Combine(_dir, "vocab.txt"),
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. Enumerable.Range(0, words - 5).Select(i => $"w{i}")]);
        return _dir;
    }

    private static BertForSequenceClassification Bert() => ParamInit.Build(ParamInit.Seeded(1), () => new BertForSequenceClassification(new BertConfig
    {
        VocabSize = 40, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 16, MaxPositionEmbeddings = 16, NumLabels = 2,
    }));

    [Fact]
    public void AugmentationUsesTheTeachersWordEmbeddings()
    {
        using var teacher = Bert();
        var spec = new TransferSpec { Augment = new AugmentSpec { Copies = 2, Neighbours = 3 } };
        var data = TransferSetup.Build(new Empty(), null, 5, spec, teacher, Vocab(40));
        Assert.Equal((8, 16), (data.Labelled, data.Augmented));
    }

    [Fact]
    public void AugmentationNeedsTheTeachersVocabularyAndATextTeacher()
    {
        var spec = new TransferSpec { Augment = new AugmentSpec() };
        using var bert = Bert();
        var size = Assert.Throws<InvalidInputException>(() => TransferSetup.Build(new Empty(), null, 5, spec, bert, Vocab(30)));
        Assert.Contains("30 tokens", size.Message);
        Assert.Contains("40 rows", size.Message);
        var noTokenizer = Assert.Throws<InvalidInputException>(() => TransferSetup.Build(new Empty(), null, 5, spec, bert, null));
        Assert.Contains("data.tokenizer", noTokenizer.Message);
        using var cnn = ParamInit.Build(ParamInit.Seeded(1), () => new CnnModel(new CnnConfig { Channels = [2], HiddenSize = 4 }));
        var image = Assert.Throws<InvalidInputException>(() => TransferSetup.Build(new Empty(), null, 5, spec, cnn, Vocab(40)));
        Assert.Contains("text teachers", image.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
