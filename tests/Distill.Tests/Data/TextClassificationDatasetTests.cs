using Distill.Data;
using Distill.Data.TextClassification;
using Distill.Recipes;
using Distill.Text;
using Xunit;

namespace Distill.Tests.Data;

public sealed class TextClassificationDatasetTests : IDisposable
{
    private readonly DataFiles _files = new();
    private static readonly DatasetKind Kind = DatasetRegistry.Default.Get("text_classification");
    private static readonly BertTextTokenizer Tokenizer = BertTextTokenizer.FromFolder(TestPaths.Tokenizer);

    public void Dispose() => _files.Dispose();

    private DataSpec Spec(string? labels = null, string text = "sentence", string? pair = null, string label = "label", string eval = "test") => new()
    {
        Dataset = "text_classification", Path = _files.Root, TextColumn = text, TextPairColumn = pair, LabelColumn = label,
        Labels = labels?.Split(',').ToList(), Tokenizer = TestPaths.Tokenizer, EvalSplit = eval, MaxLength = 16,
    };

    [Fact]
    public void CsvWithQuotesCommasLineBreaksBomAndCrlfReadsEveryFieldAndCollectsSortedLabels()
    {
        _files.Text("train.csv",
            "id,sentence,label\r\n1,\"a fine, quiet film\",pos\r\n2,\"two\r\nlines, \"\"quoted\"\"\",neg\r\n3,plain text,pos\r\n4,é ü,neutral\r\n", bom: true);
        _files.Text("test.csv", "id,sentence,label\n1,good,pos\n2,bad,neg\n");
        Assert.Empty(Kind.Validate(Spec()));
        var data = (TextClassificationDataset)Kind.Open(Spec(), "train");

        Assert.Equal(4, data.Count);
        Assert.Equal(["neg", "neutral", "pos"], data.ClassNames);      // collected from the training split, sorted
        Assert.Equal([2, 0, 2, 1], Enumerable.Range(0, 4).Select(data.Label));
        Assert.Equal(Tokenizer.Encode("two\r\nlines, \"quoted\"", maxLength: 16).InputIds, data.Encoding(1).InputIds);
        Assert.Equal(Tokenizer.Encode("a fine, quiet film", maxLength: 16).InputIds, data.Encoding(0).InputIds);
        Assert.Equal(Tokenizer.Encode("é ü", maxLength: 16).InputIds, data.Encoding(3).InputIds);
        Assert.Equal(["neg", "neutral", "pos"], Kind.ClassNames!(Spec()));

        var test = (TextClassificationDataset)Kind.Open(Spec(), "test");
        Assert.Equal(["neg", "neutral", "pos"], test.ClassNames); // the training split's classes, not the test split's
        Assert.Equal([2, 0], Enumerable.Range(0, 2).Select(test.Label));
        var batch = test.GetBatch([0, 1]);
        Assert.Equal([2L, 0L], batch.RequireLabels().data<long>().ToArray());
        Assert.Equal(2, batch["input_ids"].shape[0]);
    }

    [Fact]
    public void JsonLinesWithIntegerLabelsAndTextPairsEncodesBothSegments()
    {
        _files.Text("train.jsonl", "{\"premise\": \"a man sleeps\", \"hypothesis\": \"a person rests\", \"label\": 10}\n\n{\"premise\": \"it rains\", \"hypothesis\": \"it is dry\", \"label\": 2}\r\n");
        _files.Text("validation.jsonl", "{\"premise\": \"x\", \"hypothesis\": \"y\", \"label\": \"2\"}\n");
        var spec = Spec(text: "premise", pair: "hypothesis", eval: "validation");
        Assert.Empty(Kind.Validate(spec));
        var data = (TextClassificationDataset)Kind.Open(spec, "train");
        Assert.Equal(["2", "10"], data.ClassNames); // integers sort numerically
        Assert.Equal([1, 0], [data.Label(0), data.Label(1)]);
        var expected = Tokenizer.Encode("a man sleeps", "a person rests", maxLength: 16);
        Assert.Equal(expected.InputIds, data.Encoding(0).InputIds);
        Assert.Contains(1, data.Encoding(0).TokenTypeIds); // the second segment
        Assert.Equal(0, ((TextClassificationDataset)Kind.Open(spec, "validation")).Label(0));
    }

    [Fact]
    public void TsvWithRecipeLabelsAcceptsNamesAndIds()
    {
        _files.Text("train.tsv", "label\tsentence\tnote\nnegative\tdull\tx\n1\tlovely, \"truly\"\ty\n");
        _files.Text("test.tsv", "label\tsentence\tnote\npositive\tok\tz\n");
        var data = (TextClassificationDataset)Kind.Open(Spec(labels: "negative,positive"), "train");
        Assert.Equal(["negative", "positive"], data.ClassNames);
        Assert.Equal([0, 1], [data.Label(0), data.Label(1)]);
        Assert.Equal(Tokenizer.Encode("lovely, \"truly\"", maxLength: 16).InputIds, data.Encoding(1).InputIds);
    }

    [Fact]
    public void AnySplitNamesAndSeveralEvaluationSplitsAreValidated()
    {
        _files.Text("fit.csv", "sentence,label\na,x\nb,y\n");
        _files.Text("dev.csv", "sentence,label\na,x\n");
        var spec = Spec() with { TrainSplit = "fit", EvalSplits = ["dev", "holdout"] };
        var problems = Kind.Validate(spec).ToList();
        var problem = Assert.Single(problems);
        Assert.Equal("eval_splits[1]", problem.Key);
        Assert.Contains("holdout.csv", problem.Message);
    }

    [Theory]
    [InlineData("sentence,label\ngood,pos\n\"open quote,neg\nbad,neg\n", ":3:", "quoted field is not closed")]
    [InlineData("sentence,label\ngood,pos\nbad,neg,extra\n", ":3:", "has 3 field(s) but the header has 2")]
    [InlineData("text,label\ngood,pos\nbad,neg\n", ":1:", "no column 'sentence' (data.text_column); the header has 'text', 'label'")]
    [InlineData("sentence,label\ngood,pos\nfine,\nbad,neg\n", ":3:", "the label (column 'label') is empty")]
    [InlineData("sentence,label\n", "", "the split is empty")]
    [InlineData("", "", "the file is empty")]
    public void MalformedCsvNamesTheFileAndLine(string csv, string line, string expected)
    {
        string path = _files.Text("train.csv", csv);
        _files.Text("test.csv", "sentence,label\nx,pos\ny,neg\n");
        var e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains(path + line, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ALabelThatIsNotAClassNamesTheFileTheLineAndTheClasses()
    {
        _files.Text("train.csv", "sentence,label\ngood,pos\nbad,neg\n");
        string test = _files.Text("test.csv", "sentence,label\nok,pos\nmeh,neutral\n");
        var e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "test"));
        Assert.Contains($"{test}:3: label 'neutral' is not a class", e.Message);
        Assert.Contains("'neg', 'pos'", e.Message);

        string train = _files.Text("train.csv", "sentence,label\ngood,positive\nbad,neg\n");
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(labels: "negative,positive"), "train"));
        Assert.Contains($"{train}:3: label 'neg' is not a class: data.labels lists 'negative', 'positive'", e.Message);
    }

    [Fact]
    public void JsonLinesErrorsNameTheLine()
    {
        string path = _files.Text("train.jsonl", "{\"sentence\": \"a\", \"label\": 1}\n{\"sentence\": \"b\"}\n");
        var e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains($"{path}:2: no key 'label'", e.Message);
        _files.Text("train.jsonl", "{\"sentence\": \"a\", \"label\": 1}\n{\"sentence\": \"b\", \"label\": 0.5}\n[1]\n");
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains($"{path}:2: the label 'label' is 0.5", e.Message);
        _files.Text("train.jsonl", "{\"sentence\": \"a\", \"label\": 1}\n{\"sentence\": \"b\", \"label\": 0}\nnot json\n");
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains($"{path}:3: not a JSON object", e.Message);
    }

    [Fact]
    public void InvalidUtf8AndTwoFilesForOneSplitAreErrors()
    {
        string path = _files.Bytes("train.csv", [.. "sentence,label\nab"u8, 0xff, 0xfe, .. ",x\ncd,y\n"u8]);
        var e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains(path, e.Message);
        Assert.Contains("not UTF-8", e.Message);
        File.Delete(path);
        _files.Text("train.csv", "sentence,label\na,x\nb,y\n");
        _files.Text("train.jsonl", "{}\n");
        var problems = Kind.Validate(Spec()).ToList();
        Assert.Contains(problems, p => p.Key == "path" && p.Message.Contains("train.csv and train.jsonl"));
    }
}
