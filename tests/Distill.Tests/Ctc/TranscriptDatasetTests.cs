using Distill.Data;
using Distill.Data.Transcripts;
using Distill.Recipes;
using Distill.Tests.Data;
using Distill.Text;
using Xunit;

namespace Distill.Tests.Ctc;

public sealed class TranscriptDatasetTests : IDisposable
{
    private readonly DataFiles _files = new();
    private static readonly DatasetKind Kind = DatasetRegistry.Default.Get("audio_transcripts");

    public void Dispose() => _files.Dispose();

    private DataSpec Spec(string? vocab = null) => new() { Dataset = "audio_transcripts", Path = _files.Root, EvalSplit = "test", Vocab = vocab };

    private void Clips()
    {
        _files.Wav("train/a.wav", DataFiles.Tone(440, 8000, 0.25), 8000);
        _files.Wav("train/clips/b.wav", DataFiles.Tone(220, 16000, 0.1), 16000);
        _files.Text("train/metadata.csv", "file_name,transcription\na.wav,go  left\nclips/b.wav,stop\n");
        _files.Wav("test/c.wav", DataFiles.Tone(220, 16000, 0.1), 16000);
    }

    [Fact]
    public void TranscriptsAreEncodedWithTheTrainingVocabularyAndPaddedWithMinus100()
    {
        Clips();
        _files.Text("test/metadata.csv", "file_name,transcription\nc.wav,lost\n");
        var spec = Spec();
        Assert.Empty(Kind.Validate(spec));
        var train = Kind.Open(spec, "train");
        var v = train.Vocabulary!;
        Assert.Equal(["<pad>", "<s>", "</s>", "<unk>", "|", "e", "f", "g", "l", "o", "p", "s", "t"], v.Tokens);
        Assert.Equal(v.Count, Kind.Vocabulary!(spec).Count);
        Assert.Equal("go left", train.Transcript(0));
        using var batch = new DisposableBatch(train.GetBatch([0, 1]));
        var labels = batch.Value.RequireLabels();
        Assert.Equal(new long[] { 2, 7 }, labels.shape);
        // g o | l e f t  /  s t o p −100 −100 −100
        Assert.Equal(new long[] { 7, 9, 4, 8, 5, 6, 12, 11, 12, 9, 10, -100, -100, -100 }, labels.data<long>().ToArray());
        Assert.True(batch.Value.Inputs.ContainsKey("attention_mask"));
        var test = Kind.Open(spec, "test");
        Assert.Equal("lost", test.Transcript(0));
    }

    [Fact]
    public void BadRowsFailBeforeTrainingNamingTheFileAndLine()
    {
        Clips();
        string metadata = _files.Text("test/metadata.csv", "file_name,transcription\nc.wav,go\nc.wav,   \n");
        var e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "test"));
        Assert.Contains($"{metadata}:3: the transcription of 'c.wav' is empty", e.Message);
        _files.Text("test/metadata.csv", "file_name,transcription\nc.wav,gone\n");
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "test"));
        Assert.Contains($"{metadata}:2: the transcript 'gone' has the character 'n'", e.Message);
        _files.Text("test/metadata.csv", "file_name,text\nc.wav,go\n");
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "test"));
        Assert.Contains($"{metadata}:1: no column 'transcription'", e.Message);
        _files.Text("test/metadata.csv", "file_name,transcription\nmissing.wav,go\n");
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "test"));
        Assert.Contains($"{metadata}:2: file 'missing.wav' does not exist", e.Message);
    }

    [Fact]
    public void AGivenVocabularyIsUsedAndItsMissingCharactersAreErrors()
    {
        Clips();
        _files.Text("test/metadata.csv", "file_name,transcription\nc.wav,go\n");
        string vocab = _files.Text("vocab/vocab.json", CtcVocabulary.FromTranscripts(["go stop"]).ToJson());
        var train = () => Kind.Open(Spec(_files["vocab"]), "train");
        var e = Assert.Throws<InvalidInputException>(() => train());
        Assert.Contains("the transcript 'go left' has the character 'l'", e.Message);
        Assert.Equal(CtcVocabulary.FromTranscripts(["go stop"]).Tokens, Kind.Open(Spec(vocab), "test").Vocabulary!.Tokens);
    }

    [Fact]
    public void FsddWordsTranscribesEachClipWithItsDigitsWord()
    {
        var spec = new DataSpec { Dataset = "fsdd_words", Path = Path.Combine(TestPaths.Data, "fsdd"), EvalSplit = "test" };
        var kind = DatasetRegistry.Default.Get("fsdd_words");
        Assert.Empty(kind.Validate(spec));
        var test = kind.Open(spec, "test");
        Assert.Equal(250, test.Count);
        Assert.Equal(20, test.NumClasses);
        var v = test.Vocabulary!;
        using var batch = new DisposableBatch(test.GetBatch([0, 1, 2]));
        var labels = batch.Value.RequireLabels().data<long>().ToArray();
        int width = labels.Length / 3;
        for (int i = 0; i < 3; i++)
        {
            string word = Distill.Data.Fsdd.FsddWordsDataset.Words[test.Label(i)];
            Assert.Equal(word, test.Transcript(i));
            // The labels without their padding are the word's letters in order ("three" keeps its ee: labels are not collapsed).
            var ids = labels.Skip(i * width).Take(width).Where(id => id >= 0).Select(id => v.Tokens[(int)id]);
            Assert.Equal(word, string.Concat(ids));
        }
    }

    private sealed class DisposableBatch(Distill.Models.Batch value) : IDisposable
    {
        public Distill.Models.Batch Value { get; } = value;

        public void Dispose()
        {
            foreach (var t in Value.Inputs.Values) t.Dispose();
            Value.Labels?.Dispose();
        }
    }
}
