using Distill.Data;
using Distill.Data.ImageFolder;
using Distill.Recipes;
using SkiaSharp;
using Xunit;

namespace Distill.Tests.Data;

public sealed class ImageFolderDatasetTests : IDisposable
{
    private readonly DataFiles _files = new();
    private static readonly DatasetKind Kind = DatasetRegistry.Default.Get("image_folder");

    public void Dispose() => _files.Dispose();

    private DataSpec Spec(PreprocessSpec? pre = null, string? labels = null) => new()
    {
        Dataset = "image_folder", Path = _files.Root, TrainSplit = "train", EvalSplits = ["val"],
        Preprocessing = pre ?? new PreprocessSpec(), Labels = labels?.Split(',').ToList(),
    };

    private void TwoClasses(int side = 4)
    {
        _files.Image("train/cat/a.png", side, side, 10, 20, 30);
        _files.Image("train/cat/b.JPG", side, side, 40, 50, 60, SKEncodedImageFormat.Jpeg);
        _files.Image("train/dog/c.bmp", side, side, 70, 80, 90, SKEncodedImageFormat.Bmp);
        _files.Image("train/dog/nested/d.webp", side, side, 100, 110, 120, SKEncodedImageFormat.Webp);
        _files.Text("train/dog/notes.txt", "ignored: not an image");
        _files.Image("val/cat/e.png", side, side, 1, 2, 3);
        _files.Image("val/dog/f.png", side, side, 4, 5, 6);
    }

    [Fact]
    public void ClassFoldersAreTheClassesAndPngPixelsAreExact()
    {
        TwoClasses();
        Assert.Empty(Kind.Validate(Spec()));
        var train = (ImageFolderDataset)Kind.Open(Spec(), "train");
        Assert.Equal(4, train.Count);
        Assert.Equal(["cat", "dog"], train.ClassNames);
        Assert.Equal([0, 0, 1, 1], Enumerable.Range(0, 4).Select(train.Label));
        Assert.Equal(["cat", "dog"], Kind.ClassNames!(Spec()));

        var x = train.GetBatch([0, 2])["pixel_values"];
        Assert.Equal([2L, 3, 4, 4], x.shape);
        // PNG is lossless: pixel (x=3, y=1) of a.png is (10+3, 20+1, 30) / 255.
        Assert.Equal(13 / 255f, x[0, 0, 1, 3].item<float>(), 6);
        Assert.Equal(21 / 255f, x[0, 1, 1, 3].item<float>(), 6);
        Assert.Equal(30 / 255f, x[0, 2, 1, 3].item<float>(), 6);
        Assert.Equal(72 / 255f, x[1, 0, 0, 2].item<float>(), 6); // the BMP: lossless as well
        Assert.Equal([0L, 1L], train.GetBatch([1, 3]).RequireLabels().data<long>().ToArray());
        Assert.Equal(2, ((ImageFolderDataset)Kind.Open(Spec(), "val")).Count);
    }

    [Fact]
    public void ResizeNormaliseAndGreyscaleFollowThePreprocessingKeys()
    {
        TwoClasses(side: 6);
        var pre = new PreprocessSpec { Size = [3, 2], Mean = [0.5], Std = [0.25], Channels = 1 };
        Assert.Empty(Kind.Validate(Spec(pre)));
        Assert.Equal([1L, 3, 2], Kind.Inputs(Spec(pre))[0].Shape);
        var x = ((ImageFolderDataset)Kind.Open(Spec(pre), "train")).GetBatch([0])["pixel_values"];
        Assert.Equal([1L, 1, 3, 2], x.shape);
        var (pixels, _, _) = ImageFile.Decode(_files["train/cat/a.png"], 1);
        Assert.Equal((byte)((19595 * 10 + 38470 * 20 + 7471 * 30 + 0x8000) >> 16), pixels[0]); // PIL's luma at (0, 0)

        var problems = Kind.Validate(Spec(new PreprocessSpec { Mean = [0.5, 0.5], Std = [0.2, 0.2] })).ToList();
        Assert.Contains(problems, p => p.Key == "preprocessing.mean" && p.Message.Contains("one value or 3"));
    }

    [Fact]
    public void ImagesOfDifferentSizesNeedPreprocessingSize()
    {
        TwoClasses();
        string odd = _files.Image("train/dog/e.png", 5, 4, 0, 0, 0);
        var e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains($"{odd}: is 4×5 but the train split's first image is 4×4", e.Message);
        Assert.Contains("preprocessing.size", e.Message);
        Assert.Equal(5, Kind.Open(Spec(new PreprocessSpec { Size = [4] }), "train").Count);
    }

    [Fact]
    public void UndecodableAndTruncatedImagesNameTheFile()
    {
        TwoClasses();
        string garbage = _files.Text("train/cat/broken.png", "this is not a PNG");
        var e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains(garbage, e.Message);
        Assert.Contains("not an image SkiaSharp can decode", e.Message);
        File.Delete(garbage);

        var png = DataFiles.EncodeImage(DataFiles.Pixels(64, 64, 0, 0, 0), SKEncodedImageFormat.Png);
        string cut = _files.Bytes("train/dog/cut.png", png[..(png.Length / 2)]);
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(new PreprocessSpec { Size = [4, 4] }), "train"));
        Assert.Contains(cut, e.Message);
    }

    [Fact]
    public void EmptyClassFoldersMismatchedSplitsAndLooseFilesAreErrors()
    {
        TwoClasses();
        Directory.CreateDirectory(_files["train/bird"]);
        var e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains(_files["train/bird"], e.Message);
        Assert.Contains("holds no images", e.Message);

        _files.Image("train/bird/g.png", 4, 4, 0, 0, 0);
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "val"));
        Assert.Contains(_files["val"], e.Message);
        Assert.Contains("missing: bird", e.Message);

        _files.Image("val/bird/h.png", 4, 4, 0, 0, 0);
        _files.Image("val/fish/i.png", 4, 4, 0, 0, 0);
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "val"));
        Assert.Contains("not in train: fish", e.Message);

        string loose = _files.Image("train/j.png", 4, 4, 0, 0, 0);
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains($"{loose}: lies directly in the split folder", e.Message);
    }

    [Fact]
    public void RecipeLabelsOrderTheClassesAndMustCoverTheFolders()
    {
        TwoClasses();
        var data = (ImageFolderDataset)Kind.Open(Spec(labels: "dog,cat,cow"), "train");
        Assert.Equal(["dog", "cat", "cow"], data.ClassNames);
        Assert.Equal([1, 1, 0, 0], Enumerable.Range(0, 4).Select(data.Label));
        var e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(labels: "cat,cow"), "train"));
        Assert.Contains("'dog' are not in data.labels", e.Message);
    }
}
