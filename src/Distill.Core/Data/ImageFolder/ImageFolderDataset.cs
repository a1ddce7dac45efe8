using Distill.Models;
using Distill.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Data.ImageFolder;

/// <summary>
/// <c>dataset: image_folder</c>: <c>&lt;path&gt;/&lt;split&gt;/&lt;class&gt;/*.{png,jpg,jpeg,bmp,webp}</c> (see
/// <see cref="ClassFolders"/>), or the files a <c>&lt;path&gt;/&lt;split&gt;/metadata.csv</c> lists (<c>file_name</c> and
/// <c>label_column</c>, in row order; see <see cref="SplitMetadata"/>), decoded by SkiaSharp (<see cref="ImageFile"/>) as RGB (<c>preprocessing.channels: 3</c>)
/// or grey (1), then pre-processed as <c>cifar10</c> does, by a <see cref="ViTImageProcessor"/>: the HF
/// <c>preprocessor_config.json</c> named by <c>preprocessing.processor</c>, or one made of the recipe's keys — resize
/// to <c>preprocessing.size</c> (Pillow bilinear), pixels / 255, then (x − mean) / std when mean and std are given.
/// Without a size every image must have the training split's first image's size (checked at open).
/// <para>Malformed files: when a split is opened every file is decoded once (so an undecodable, truncated or
/// odd-sized image is an error naming the file before training starts); nothing is kept in memory but the file list,
/// and each batch decodes its images from disk again.</para>
/// </summary>
public sealed class ImageFolderDataset : IDataset
{
    /// <summary>The file extensions read (case-insensitive).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".webp"];

    private const string What = "images";

    private readonly string[] _files;
    private readonly int[] _labels;
    private readonly IImageProcessor _processor;
    private readonly int _channels;
    private readonly (int Height, int Width) _outputSize;

    private ImageFolderDataset(string[] files, int[] labels, IReadOnlyList<string> classNames, IImageProcessor processor, int channels, (int, int) outputSize)
    {
        _files = files;
        _labels = labels;
        ClassNames = classNames;
        _processor = processor;
        _channels = channels;
        _outputSize = outputSize;
    }

    public int Count => _files.Length;

    public int NumClasses => ClassNames.Count;

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The label of an example; −1 for unlabelled inputs (<c>distill predict</c>).</summary>
    public int Label(int index) => _labels[index];

    /// <summary>The file example <paramref name="index"/> is read from.</summary>
    public string File(int index) => _files[index];

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        if (indices.Length == 0) throw new ArgumentException("image_folder: a batch needs at least one example index.");
        var (oh, ow) = _outputSize;
        int size = _channels * oh * ow;
        var x = new float[indices.Length * size];
        for (int i = 0; i < indices.Length; i++)
        {
            string file = _files[indices[i]];
            var (pixels, h, w) = ImageFile.Decode(file, _channels);
            if (_processor.OutputSize(h, w) != _outputSize)
                throw new InvalidInputException(file, $"{file}: is {h}×{w}, not {oh}×{ow} like the other images; set data.preprocessing.size to resize every image.");
            _processor.PreprocessInto(pixels, h, w, _channels, x.AsSpan(i * size, size));
        }
        var inputs = new Dictionary<string, Tensor> { ["pixel_values"] = torch.tensor(x, new long[] { indices.Length, _channels, oh, ow }) }; // (B, C, H, W)
        return new Batch(inputs, ClassLabels.BatchLabels(_labels, indices));
    }

    /// <summary>The registry entry for <c>dataset: image_folder</c>.</summary>
    public static DatasetKind Kind { get; } = new(
        "image_folder",
        [],
        spec =>
        {
            var (h, w) = OutputSize(spec, Processor(spec));
            return [new InputSpec("pixel_values", [spec.Channels, h, w], ScalarType.Float32)];
        },
        Validate,
        (spec, split) => Open(spec, split),
        "your images: <path>/<split>/<class>/*.png|jpg|jpeg|bmp|webp or <path>/<split>/metadata.csv (file_name,label), decoded by SkiaSharp, resized/normalised by preprocessing or an HF image processor")
    {
        ClassNames = spec => Classes(spec).Names,
        OpenInputs = (spec, input, names) =>
        {
            var data = OpenInputs(spec, input, names);
            return (data, [.. Enumerable.Range(0, data.Count).Select(data.File)]);
        },
        Reads = new HashSet<string>(StringComparer.Ordinal) { "labels", "label_column", "preprocessing.size", "preprocessing.channels", "preprocessing.processor" },
    };

    private static IEnumerable<(string Key, string Message)> Validate(IDataSettings spec)
    {
        foreach (var (key, split) in spec.SplitKeys)
            if (!Directory.Exists(ClassFolders.SplitFolder(spec.Path, split)))
                yield return (key, $"'{spec.Path}' has no folder '{split}' for the {split} split (expected {Path.Combine(spec.Path, split)}/<class>/<image>)");
        if (spec.Channels is not (1 or 3)) yield return ("preprocessing.channels", $"must be 3 (RGB) or 1 (grey), not {spec.Channels}");
        if (spec.Processor is not null)
        {
            if (spec.Mean is not null || spec.Std is not null || spec.ImageSize is not null)
                yield return ("preprocessing.processor", "the image processor sets the size, mean and std itself; remove preprocessing.size, mean and std, or remove processor");
            string? problem = null;
            try { Processor(spec); }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException or ArgumentException) { problem = e.Message; }
            if (problem is not null) yield return ("preprocessing.processor", problem);
            yield break;
        }
        if ((spec.Mean is null) != (spec.Std is null)) yield return ("preprocessing", "give both mean and std, or neither");
        foreach (var (key, values) in new[] { ("preprocessing.mean", spec.Mean), ("preprocessing.std", spec.Std) })
            if (values is not null && values.Count != 1 && values.Count != spec.Channels)
                yield return (key, $"give one value or {spec.Channels} (one per channel), not {values.Count}");
        if (spec.Std is { } std)
            for (int i = 0; i < std.Count; i++)
                if (!(std[i] > 0)) yield return ($"preprocessing.std[{i}]", "must be > 0");
        if (spec.ImageSize is { } size && (size.Height < 1 || size.Width < 1))
            yield return ("preprocessing.size", "height and width must be at least 1");
    }

    /// <summary>The processor of the recipe: the named HF config, or resize/rescale/normalise from the preprocessing keys.</summary>
    public static ViTImageProcessor Processor(IDataSettings spec)
    {
        if (spec.Processor is { } path)
        {
            string file = Directory.Exists(path) ? Path.Combine(path, "preprocessor_config.json") : path;
            if (!System.IO.File.Exists(file))
                throw new FileNotFoundException($"{path}: has no preprocessor_config.json (the image processor of an HF model folder).", file);
            return ViTImageProcessor.Load(file);
        }
        return new ViTImageProcessor
        {
            DoResize = spec.ImageSize is not null,
            Size = spec.ImageSize ?? (1, 1),
            DoRescale = true,
            RescaleFactor = 1.0 / 255.0,
            DoNormalize = spec.Mean is not null,
            ImageMean = spec.Mean ?? [0.0],
            ImageStd = spec.Std ?? [1.0],
        };
    }

    /// <summary>The (height, width) of a batch: the processor's size, else the training split's first image's.</summary>
    private static (int Height, int Width) OutputSize(IDataSettings spec, ViTImageProcessor processor)
    {
        if (processor.DoResize) return processor.Size;
        return ImageFile.Size(SplitFiles(spec, spec.TrainSplit, Classes(spec))[0].File);
    }

    /// <summary>Opens a split: lists its files and decodes each once (errors name the file).</summary>
    public static ImageFolderDataset Open(IDataSettings spec, string split)
    {
        var processor = Processor(spec);
        _ = processor.LookupTables(spec.Channels); // mean/std against the channel count now rather than at the first batch
        var classes = Classes(spec);
        var files = SplitFiles(spec, split, classes);
        var output = OutputSize(spec, processor);
        var labels = new int[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            var (file, label) = files[i];
            labels[i] = label;
            var (_, h, w) = ImageFile.Decode(file, spec.Channels);
            if (processor.OutputSize(h, w) != output)
                throw new InvalidInputException(file,
                    $"{file}: is {h}×{w} but the {spec.TrainSplit} split's first image is {output.Height}×{output.Width}; set data.preprocessing.size: [height, width] to resize every image.");
        }
        return new ImageFolderDataset([.. files.Select(f => f.File)], labels, classes.Names, processor, spec.Channels, output);
    }

    /// <summary>The classes: the recipe's labels, else the training split's class folders or metadata labels (sorted).</summary>
    public static ClassLabels Classes(IDataSettings spec) =>
        SplitMetadata.Find(spec, spec.TrainSplit) is { } metadata
            ? SplitMetadata.Classes(spec, metadata)
            : ClassFolders.Classes(spec, Extensions, What);

    /// <summary>A split's files with their class ids: its metadata.csv rows in order, else its class folders (ordinal order).</summary>
    private static IReadOnlyList<(string File, int Label)> SplitFiles(IDataSettings spec, string split, ClassLabels classes)
    {
        if (SplitMetadata.Find(spec, split) is { } metadata) return SplitMetadata.Files(spec, metadata, classes, Extensions);
        SplitMetadata.CheckConsistent(spec, split);
        ClassFolders.CheckSameClasses(spec, split, Extensions, What);
        var result = new List<(string, int)>();
        foreach (var (file, cls) in ClassFolders.Files(spec.Path, split, Extensions, What))
            result.Add((file, classes.TryGetId(cls, out int id)
                ? id
                : throw new InvalidInputException(file, $"{file}: class folder '{cls}' is not a class: {classes.Describe()}.")));
        return result;
    }

    /// <summary>Unlabelled images for <c>distill predict</c>: one image file, or every image in a folder (recursively, ordinal order).</summary>
    public static ImageFolderDataset OpenInputs(IDataSettings spec, string input, IReadOnlyList<string> classNames)
    {
        var processor = Processor(spec);
        return OpenInputs(input, processor, spec.Channels, OutputSize(spec, processor), classNames);
    }

    /// <summary>
    /// Unlabelled images for <c>distill predict</c>, decoded as <paramref name="channels"/> (1 = grey, 3 = RGB) and
    /// pre-processed by <paramref name="processor"/> into (channels, output) each: one image file, or every image in a
    /// folder (recursively, ordinal order). Each file is decoded once here (errors name it), then again per batch.
    /// </summary>
    public static ImageFolderDataset OpenInputs(string input, IImageProcessor processor, int channels, (int Height, int Width) output, IReadOnlyList<string> classNames)
    {
        var files = System.IO.File.Exists(input)
            ? [input]
            : Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase))).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new InvalidInputException(input, $"{input}: holds no images ({string.Join(", ", Extensions)}).");
        foreach (var file in files)
        {
            var (_, h, w) = ImageFile.Decode(file, channels);
            if (processor.OutputSize(h, w) != output)
                throw new InvalidInputException(file, $"{file}: is {h}×{w}, but the model takes {output.Height}×{output.Width} images; set data.preprocessing.size to resize.");
        }
        return new ImageFolderDataset([.. files], [.. files.Select(_ => -1)], classNames, processor, channels, output);
    }
}
