using Distill.Models;
using Distill.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Data.Cifar10;

/// <summary>
/// CIFAR-10 (Krizhevsky 2009) in the official binary format: records of 3,073 bytes = 1 label byte, then the R, G and B
/// planes, each 32×32 row-major uint8; no header (record count = file size / 3073). Splits: <c>train</c> =
/// <c>train_subset_10k.bin</c>, <c>test</c> = <c>test_5k.bin</c> (the files of <c>shared/data/cifar10</c>), or
/// <c>train.bin</c> / <c>test.bin</c> (the smaller subsets shipped in Distill's <c>data/cifar10</c>); a folder holds one
/// file per split, so that which records a run used is never a silent choice.
/// Yields <c>pixel_values</c> (B, 3, 32, 32): pixels scaled to [0, 1], then (x − mean) / std per channel when the recipe
/// gives <c>preprocessing.mean/std</c> (3 values each), computed exactly as HF's ViTImageProcessor does;
/// or through a <see cref="ViTImageProcessor"/> (an HF model folder's) when opened with one.
/// </summary>
public sealed class Cifar10Dataset : IDataset
{
    /// <summary>Bytes per record: label + 3 × 32 × 32.</summary>
    public const int RecordBytes = 1 + 3 * Side * Side;

    private const int Side = 32;
    private const int Plane = Side * Side;

    private readonly byte[] _data;
    private readonly float[][]? _lut;
    private readonly ViTImageProcessor? _processor;

    private Cifar10Dataset(byte[] data, float[][]? lut, ViTImageProcessor? processor)
    {
        _data = data;
        _lut = lut;
        _processor = processor;
    }

    /// <summary>Class names in label order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    IReadOnlyList<string> IDataset.ClassNames => ClassNames;

    public int Count => _data.Length / RecordBytes;

    public int NumClasses => 10;

    public int Label(int index) => _data[(long)index * RecordBytes];

    /// <summary>The raw pixels of one record as stored: R, G, B planes (3·32·32 bytes, channels first).</summary>
    public ReadOnlySpan<byte> RawPixels(int index) => _data.AsSpan(index * RecordBytes + 1, RecordBytes - 1);

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        int n = indices.Length;
        var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            if ((uint)indices[i] >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"cifar10: index {indices[i]} is outside 0..{Count - 1}.");
            y[i] = Label(indices[i]);
        }
        Tensor pixels;
        if (_processor is null)
        {
            var x = new float[n * 3 * Plane];
            var lut = _lut!;
            for (int i = 0; i < n; i++)
            {
                var src = RawPixels(indices[i]);
                int dst = i * 3 * Plane;
                for (int c = 0; c < 3; c++)
                {
                    var table = lut[c];
                    for (int p = 0; p < Plane; p++) x[dst + c * Plane + p] = table[src[c * Plane + p]];
                }
            }
            pixels = torch.tensor(x, new long[] { n, 3, Side, Side }); // (B, 3, 32, 32)
        }
        else
        {
            var (oh, ow) = _processor.OutputSize(Side, Side);
            var x = new float[n * 3 * oh * ow];
            var hwc = new byte[3 * Plane];
            for (int i = 0; i < n; i++)
            {
                var src = RawPixels(indices[i]);
                for (int p = 0; p < Plane; p++)
                    for (int c = 0; c < 3; c++) hwc[p * 3 + c] = src[c * Plane + p]; // planes → (32, 32, 3)
                _processor.PreprocessInto(hwc, Side, Side, 3, x.AsSpan(i * 3 * oh * ow, 3 * oh * ow));
            }
            pixels = torch.tensor(x, new long[] { n, 3, oh, ow }); // (B, 3, H', W')
        }
        return new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = pixels }, torch.tensor(y));
    }

    /// <summary>The registry entry for <c>dataset: cifar10</c>.</summary>
    public static DatasetKind Kind { get; } = new(
        "cifar10",
        ["train", "test"],
        _ => [new InputSpec("pixel_values", [3, Side, Side], ScalarType.Float32)],
        Validate,
        (spec, split) => Open(spec.Path, split, spec.Mean, spec.Std),
        "CIFAR-10 32x32 colour photos (binary format): train_subset_10k.bin / test_5k.bin (or train.bin / test.bin), 10 classes")
    {
        ClassNames = _ => ClassNames,
        OpenInputs = (spec, input, names) =>
        {
            // Image files decoded as RGB, resized to 32×32 (Pillow bilinear) when needed, then the split's own normalisation.
            var processor = Normaliser(spec.Mean, spec.Std) with { DoResize = true, Size = (Side, Side) };
            var data = ImageFolder.ImageFolderDataset.OpenInputs(input, processor, 3, (Side, Side), names);
            return (data, [.. Enumerable.Range(0, data.Count).Select(data.File)]);
        },
    };

    /// <summary>The file name of a split in the shared data (<c>train_subset_10k.bin</c>, <c>test_5k.bin</c>).</summary>
    public static string FileName(string split) => split switch
    {
        "train" => "train_subset_10k.bin",
        "test" => "test_5k.bin",
        _ => throw new ArgumentException($"cifar10 has splits 'train' and 'test', not '{split}'."),
    };

    /// <summary>The names a split's file may have: <see cref="FileName"/>, then <c>{split}.bin</c>.</summary>
    public static IReadOnlyList<string> FileNames(string split) => [FileName(split), split + ".bin"];

    /// <summary>
    /// The file of <paramref name="split"/> in <paramref name="dir"/>: the one of <see cref="FileNames"/> that exists.
    /// Null when none exists; an <see cref="InvalidDataException"/> when both do (which one is meant is unclear).
    /// </summary>
    public static string? Locate(string dir, string split)
    {
        var found = FileNames(split).Select(n => Path.Combine(dir, n)).Where(File.Exists).ToList();
        if (found.Count > 1)
            throw new InvalidDataException(
                $"{dir}: holds both {string.Join(" and ", found.Select(Path.GetFileName))} for the {split} split of CIFAR-10; keep one of them.");
        return found.Count == 1 ? found[0] : null;
    }

    private static IEnumerable<(string Key, string Message)> Validate(IDataSettings spec)
    {
        foreach (var (key, split) in spec.SplitKeys)
        {
            if (split is not ("train" or "test")) { yield return (key, $"cifar10 has splits 'train' and 'test', not '{split}'"); continue; }
            string? file;
            string? ambiguous = null;
            try { file = Locate(spec.Path, split); }
            catch (InvalidDataException e) { file = null; ambiguous = e.Message; }
            if (ambiguous is not null) yield return ("path", ambiguous);
            else if (file is null) yield return ("path", $"'{spec.Path}' has no {string.Join(" or ", FileNames(split))} (the {split} split of CIFAR-10)");
            else if (new FileInfo(file).Length % RecordBytes != 0)
                yield return ("path", $"{file} is {new FileInfo(file).Length} bytes, not a whole number of {RecordBytes}-byte CIFAR-10 records");
        }
        foreach (var problem in ValidatePreprocessing(spec.Mean, spec.Std)) yield return problem;
    }

    private static IEnumerable<(string Key, string Message)> ValidatePreprocessing(IReadOnlyList<double>? mean, IReadOnlyList<double>? std)
    {
        if ((mean is null) != (std is null)) yield return ("preprocessing", "give both mean and std, or neither");
        if (mean is { Count: not 3 }) yield return ("preprocessing.mean", "CIFAR-10 has three channels (R, G, B): give three values");
        if (std is { Count: not 3 }) yield return ("preprocessing.std", "CIFAR-10 has three channels (R, G, B): give three values");
        if (std is { } s)
            for (int i = 0; i < s.Count; i++)
                if (!(s[i] > 0)) yield return ($"preprocessing.std[{i}]", "must be > 0");
    }

    /// <summary>Opens a split; pixels are x/255, then (x − mean) / std when mean and std are given (three values each).</summary>
    public static Cifar10Dataset Open(string dir, string split, IReadOnlyList<double>? mean, IReadOnlyList<double>? std)
    {
        var problems = ValidatePreprocessing(mean, std).ToList();
        if (problems.Count > 0)
            throw new ArgumentException("cifar10: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}")) + ".");
        return new Cifar10Dataset(Read(dir, split), Normaliser(mean, std).LookupTables(3), null);
    }

    /// <summary>The pixel arithmetic of a split opened with mean and std (or neither): x/255, then (x − mean) / std, as HF's ViTImageProcessor computes it; no resize.</summary>
    public static ViTImageProcessor Normaliser(IReadOnlyList<double>? mean, IReadOnlyList<double>? std) => new()
    {
        DoResize = false,
        DoRescale = true,
        RescaleFactor = 1.0 / 255.0,
        DoNormalize = mean is not null,
        ImageMean = mean ?? [0.0],
        ImageStd = std ?? [1.0],
    };

    /// <summary>Opens a split pre-processed by an HF model folder's image processor (resized when its size is not 32×32).</summary>
    public static Cifar10Dataset Open(string dir, string split, ViTImageProcessor processor)
    {
        var problems = processor.Validate().ToList();
        if (problems.Count > 0)
            throw new ArgumentException("cifar10: invalid image processor: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}")) + ".");
        _ = processor.LookupTables(3); // checks mean/std against three channels now rather than at the first batch
        return new Cifar10Dataset(Read(dir, split), null, processor);
    }

    private static byte[] Read(string dir, string split)
    {
        string path = Locate(dir, split)
            ?? throw new FileNotFoundException(
                $"{dir}: missing {string.Join(" or ", FileNames(split))}, the {split} split of CIFAR-10 (binary format).",
                Path.Combine(dir, FileName(split)));
        var data = File.ReadAllBytes(path);
        if (data.Length == 0 || data.Length % RecordBytes != 0)
            throw new InvalidDataException(
                $"{path}: {data.Length} bytes is not a whole number of {RecordBytes}-byte CIFAR-10 records (label + 3×32×32 pixels).");
        for (int i = 0; i < data.Length; i += RecordBytes)
            if (data[i] > 9)
                throw new InvalidDataException($"{path}: record {i / RecordBytes} (byte offset {i}) has label {data[i]}, outside 0-9.");
        return data;
    }
}
