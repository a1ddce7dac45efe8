using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Data.Mnist;

/// <summary>
/// MNIST from the canonical IDX files (gzip or plain): <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>,
/// <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>. Yields <c>pixel_values</c> (B, 1, 28, 28): pixels
/// scaled to [0, 1], then (x − mean) / std when the recipe gives them.
/// </summary>
public sealed class MnistDataset : IDataset
{
    private const int Side = 28;
    private readonly byte[] _pixels;
    private readonly byte[] _labels;
    private readonly MnistPixels _normalise;

    private MnistDataset(byte[] pixels, byte[] labels, IReadOnlyList<double>? mean, IReadOnlyList<double>? std)
    {
        _pixels = pixels;
        _labels = labels;
        _normalise = new MnistPixels(mean, std);
    }

    public int Count => _labels.Length;

    public int NumClasses => 10;

    public int Label(int index) => _labels[index];

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        int n = indices.Length, size = Side * Side;
        var x = new float[n * size];
        var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            int src = indices[i] * size, dst = i * size;
            for (int p = 0; p < size; p++) x[dst + p] = _normalise.Value(_pixels[src + p]);
            y[i] = _labels[indices[i]];
        }
        var pixels = torch.tensor(x, new long[] { n, 1, Side, Side }); // (B, 1, 28, 28)
        return new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = pixels }, torch.tensor(y));
    }

    /// <summary>Class names in label order: the digits.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = [.. Enumerable.Range(0, 10).Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    IReadOnlyList<string> IDataset.ClassNames => ClassNames;

    /// <summary>The registry entry for <c>dataset: mnist</c>.</summary>
    public static DatasetKind Kind { get; } = new(
        "mnist",
        ["train", "test"],
        _ => [new InputSpec("pixel_values", [1, Side, Side], ScalarType.Float32)],
        Validate,
        (spec, split) => Open(spec.Path, split, spec.Mean, spec.Std),
        "MNIST handwritten digits (IDX files), 60k train / 10k test, 10 classes")
    {
        ClassNames = _ => ClassNames,
        OpenInputs = (spec, input, names) =>
        {
            // Image files decoded to grey and pre-processed by MNIST's own arithmetic (resized to 28×28 first when needed).
            var data = ImageFolder.ImageFolderDataset.OpenInputs(input, new MnistPixels(spec.Mean, spec.Std), 1, (Side, Side), names);
            return (data, [.. Enumerable.Range(0, data.Count).Select(data.File)]);
        },
    };

    private static IEnumerable<(string Key, string Message)> Validate(IDataSettings spec)
    {
        foreach (var (key, split) in spec.SplitKeys)
        {
            if (split is not ("train" or "test")) { yield return (key, $"mnist has splits 'train' and 'test', not '{split}'"); continue; }
            foreach (var f in Files(split))
                if (Find(spec.Path, f) is null)
                    yield return ("path", $"'{spec.Path}' has no {f} or {f}.gz (the {split} split of MNIST)");
        }
        if ((spec.Mean is null) != (spec.Std is null)) yield return ("preprocessing", "give both mean and std, or neither");
        if (spec.Mean is { Count: not 1 }) yield return ("preprocessing.mean", "MNIST has one channel: give one value");
        if (spec.Std is { Count: not 1 }) yield return ("preprocessing.std", "MNIST has one channel: give one value");
        if (spec.Std is { Count: 1 } s && s[0] <= 0) yield return ("preprocessing.std", "must be > 0");
    }

    private static string[] Files(string split) => split == "train"
        ? ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
        : ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    private static string? Find(string dir, string name) =>
        File.Exists(Path.Combine(dir, name)) ? Path.Combine(dir, name)
        : File.Exists(Path.Combine(dir, name + ".gz")) ? Path.Combine(dir, name + ".gz")
        : null;

    /// <summary>Opens a split from a folder of IDX files; pixels are x/255, then (x − mean) / std when both are given (one value each).</summary>
    public static MnistDataset Open(string dir, string split, IReadOnlyList<double>? mean, IReadOnlyList<double>? std)
    {
        var files = Files(split);
        string imagesPath = Find(dir, files[0]) ?? throw new FileNotFoundException($"{dir}: missing {files[0]}(.gz)");
        string labelsPath = Find(dir, files[1]) ?? throw new FileNotFoundException($"{dir}: missing {files[1]}(.gz)");
        var images = ReadIdx(imagesPath, 2051, out var imageDims);
        var labels = ReadIdx(labelsPath, 2049, out var labelDims);
        if (imageDims.Length != 3 || imageDims[1] != Side || imageDims[2] != Side)
            throw Bad(imagesPath, $"expected N×28×28 images, header says {string.Join("×", imageDims)}");
        if (labelDims[0] != imageDims[0])
            throw Bad(labelsPath, $"{labelDims[0]} labels for {imageDims[0]} images in {imagesPath}");
        foreach (byte l in labels)
            if (l > 9) throw Bad(labelsPath, $"label {l} is outside 0-9");
        return new MnistDataset(images, labels, mean, std);
    }

    private static byte[] ReadIdx(string path, int magic, out int[] dims)
    {
        // The whole file is read and checked (gzip trailer, header against size) before any example is used.
        byte[] b = path.EndsWith(".gz", StringComparison.Ordinal) ? GzipFile.ReadAll(path) : File.ReadAllBytes(path);
        int length = b.Length;
        int ReadBE(int o) => (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
        if (length < 8 || ReadBE(0) != magic)
            throw Bad(path, $"not an IDX file with magic {magic} (got {(length >= 4 ? ReadBE(0) : -1)})");
        int rank = magic & 0xff;
        if (length < 4 + 4 * rank) throw Bad(path, $"{length} bytes is too short for the IDX header of rank {rank} (truncated)");
        dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = ReadBE(4 + 4 * i);
            if (dims[i] < 0) throw Bad(path, $"header dimension {i} is negative ({dims[i]})");
            total *= dims[i]; // no overflow: total < 2^31 before (checked next), a dimension < 2^31
            if (total > int.MaxValue) throw Bad(path, $"header dimensions {string.Join("×", dims[..(i + 1)])} promise more data than an IDX file can hold");
        }
        int header = 4 + 4 * rank;
        if (length - header != total)
            throw Bad(path, $"header promises {total} bytes of data, file has {length - header}");
        return b.AsSpan(header, (int)total).ToArray();
    }

    private static InvalidInputException Bad(string path, string what) =>
        new(path, $"{path}: {what}; the file is damaged or not the MNIST file of that name: download it again.");
}
