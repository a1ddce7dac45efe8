using System.Globalization;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Vision;

/// <summary>
/// HuggingFace transformers 4.40's <c>ViTImageProcessor</c>: decoded uint8 images (N, H, W, C), channels last,
/// C = 3 (RGB) or 1 (grayscale) → float32 <c>pixel_values</c> (N, C, height, width), in HF's order and arithmetic:
/// <list type="number">
/// <item><b>resize</b> (<c>do_resize</c>, <c>size</c>, <c>resample</c>) with Pillow's algorithm on the uint8 image
/// (<see cref="PillowResize"/>): the identity when the size already matches (Pillow returns a copy), which is the only
/// case checked against HF reference data; other sizes follow Pillow's published algorithm but were not compared with Pillow;</item>
/// <item><b>rescale</b> (<c>do_rescale</c>, <c>rescale_factor</c>): float64 product, then cast to float32;</item>
/// <item><b>normalize</b> (<c>do_normalize</c>, <c>image_mean</c>, <c>image_std</c>): (x − mean) / std in float32.</item>
/// </list>
/// With neither rescale nor normalize, HF returns uint8 tensors; this class returns the same values as float32.
/// </summary>
public sealed record ViTImageProcessor : IImageProcessor
{
    /// <summary>PIL resampling filter ids accepted for <c>resample</c>: 2 = BILINEAR, 3 = BICUBIC.</summary>
    public static readonly IReadOnlyDictionary<int, string> SupportedResample = new Dictionary<int, string> { [2] = "bilinear", [3] = "bicubic" };

    // Keys of preprocessor_config.json that do not change the output.
    private static readonly HashSet<string> HarmlessKeys =
        ["_valid_processor_keys", "image_processor_type", "processor_class", "feature_extractor_type", "return_tensors", "data_format", "input_data_format"];

    public bool DoResize { get; init; } = true;

    /// <summary>Output size (height, width) when <see cref="DoResize"/>; HF default 224×224.</summary>
    public (int Height, int Width) Size { get; init; } = (224, 224);

    /// <summary>PIL filter id: 2 = bilinear (HF default), 3 = bicubic.</summary>
    public int Resample { get; init; } = 2;

    public bool DoRescale { get; init; } = true;

    public double RescaleFactor { get; init; } = 1.0 / 255.0;

    public bool DoNormalize { get; init; } = true;

    /// <summary>Per-channel mean; one value is used for every channel (HF's scalar form). Default 0.5 (IMAGENET_STANDARD_MEAN).</summary>
    public IReadOnlyList<double> ImageMean { get; init; } = [0.5, 0.5, 0.5];

    /// <summary>Per-channel std; one value is used for every channel. Default 0.5 (IMAGENET_STANDARD_STD).</summary>
    public IReadOnlyList<double> ImageStd { get; init; } = [0.5, 0.5, 0.5];

    /// <summary>Problems with the settings, each as (key, message); empty when valid.</summary>
    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (DoResize && (Size.Height < 1 || Size.Width < 1)) yield return ("size", $"height and width must be at least 1, got {Size.Height}×{Size.Width}");
        if (DoResize && !SupportedResample.ContainsKey(Resample))
            yield return ("resample", $"PIL filter {Resample} is not supported; use 2 (bilinear) or 3 (bicubic)");
        if (DoRescale && !(RescaleFactor > 0) ) yield return ("rescale_factor", "must be > 0");
        if (DoNormalize)
        {
            if (ImageMean.Count == 0) yield return ("image_mean", "needs at least one value");
            if (ImageStd.Count == 0) yield return ("image_std", "needs at least one value");
            for (int i = 0; i < ImageStd.Count; i++)
                if (!(ImageStd[i] > 0)) yield return ($"image_std[{i}]", "must be > 0");
        }
    }

    /// <summary>
    /// Reads an HF <c>preprocessor_config.json</c>. Absent keys take HF's defaults; keys that would change the output and
    /// are not implemented (for example <c>do_center_crop</c>) are an error naming the key.
    /// </summary>
    public static ViTImageProcessor Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FileNotFoundException($"{path}: cannot read the image processor config ({e.Message}).", path, e);
        }
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: must be a JSON object.");
            var p = new ViTImageProcessor();
            foreach (var prop in root.EnumerateObject())
            {
                var v = prop.Value;
                switch (prop.Name)
                {
                    case "do_resize": p = p with { DoResize = Bool(path, prop) }; break;
                    case "do_rescale": p = p with { DoRescale = Bool(path, prop) }; break;
                    case "do_normalize": p = p with { DoNormalize = Bool(path, prop) }; break;
                    case "rescale_factor": p = p with { RescaleFactor = Number(path, prop.Name, v) }; break;
                    case "resample": p = p with { Resample = Int(path, prop.Name, v) }; break;
                    case "image_mean": p = p with { ImageMean = Numbers(path, prop) }; break;
                    case "image_std": p = p with { ImageStd = Numbers(path, prop) }; break;
                    case "size": p = p with { Size = ParseSize(path, v) }; break;
                    case "image_processor_type" when v.ValueKind == JsonValueKind.String && v.GetString() != "ViTImageProcessor":
                        throw new InvalidDataException(
                            $"{path}: image_processor_type is '{v.GetString()}'; only ViTImageProcessor is implemented.");
                    default:
                        if (!HarmlessKeys.Contains(prop.Name))
                            throw new InvalidDataException(
                                $"{path}: key '{prop.Name}' is not supported by Distill's ViTImageProcessor " +
                                "(it would change the pixels); remove it or pre-process the images to match.");
                        break;
                }
            }
            var problems = p.Validate().ToList();
            if (problems.Count > 0)
                throw new InvalidDataException($"{path}: " + string.Join("; ", problems.Select(x => $"{x.Key}: {x.Message}")) + ".");
            return p;
        }
    }

    /// <summary>
    /// Pre-processes a batch of uint8 images (N, H, W, C), channels last, C = 1 or 3, into float32 (N, C, H', W').
    /// </summary>
    public Tensor Preprocess(Tensor imagesNhwc)
    {
        if (imagesNhwc.dtype != ScalarType.Byte)
            throw new ArgumentException($"ViTImageProcessor: images must be uint8 (decoded pixels 0-255), got {imagesNhwc.dtype}.");
        if (imagesNhwc.dim() != 4 || imagesNhwc.shape[3] is not (1 or 3))
            throw new ArgumentException(
                $"ViTImageProcessor: images must be (N, H, W, C) with C = 1 or 3, got ({string.Join(", ", imagesNhwc.shape)}).");
        int n = (int)imagesNhwc.shape[0], h = (int)imagesNhwc.shape[1], w = (int)imagesNhwc.shape[2], c = (int)imagesNhwc.shape[3];
        var src = imagesNhwc.cpu().contiguous();
        var bytes = src.bytes;
        var (oh, ow) = OutputSize(h, w);
        var result = new float[(long)n * c * oh * ow];
        int inSize = h * w * c;
        for (int i = 0; i < n; i++)
            PreprocessInto(bytes.Slice(i * inSize, inSize), h, w, c, result.AsSpan(i * c * oh * ow, c * oh * ow));
        return torch.tensor(result, new long[] { n, c, oh, ow }); // (N, C, H', W')
    }

    /// <summary>The (height, width) of the output for an input of the given size.</summary>
    public (int Height, int Width) OutputSize(int height, int width) => DoResize ? Size : (height, width);

    /// <summary>
    /// Pre-processes one uint8 image, <paramref name="hwc"/> = H·W·C bytes channels last, into <paramref name="chwOut"/>
    /// (C·H'·W' floats, channels first).
    /// </summary>
    public void PreprocessInto(ReadOnlySpan<byte> hwc, int height, int width, int channels, Span<float> chwOut)
    {
        if (hwc.Length != height * width * channels)
            throw new ArgumentException($"ViTImageProcessor: {hwc.Length} bytes is not a {height}×{width}×{channels} image.");
        var (oh, ow) = OutputSize(height, width);
        if (chwOut.Length != channels * oh * ow)
            throw new ArgumentException($"ViTImageProcessor: output span has {chwOut.Length} floats, needs {channels * oh * ow}.");
        ReadOnlySpan<byte> pixels = hwc;
        byte[]? resized = null;
        if (DoResize && (oh != height || ow != width))
        {
            resized = PillowResize.Resize(hwc, height, width, channels, oh, ow, Resample);
            pixels = resized;
        }
        var lut = LookupTables(channels);
        int plane = oh * ow;
        for (int p = 0; p < plane; p++)
            for (int ch = 0; ch < channels; ch++)
                chwOut[ch * plane + p] = lut[ch][pixels[p * channels + ch]];
    }

    /// <summary>
    /// For each channel, the output value of each of the 256 byte values: the exact float32 HF computes,
    /// so building a batch costs one table look-up per pixel.
    /// </summary>
    public float[][] LookupTables(int channels)
    {
        if (DoNormalize)
        {
            if (ImageMean.Count != 1 && ImageMean.Count != channels)
                throw new ArgumentException($"ViTImageProcessor: image_mean has {ImageMean.Count} values for {channels}-channel images; give {channels} (or one).");
            if (ImageStd.Count != 1 && ImageStd.Count != channels)
                throw new ArgumentException($"ViTImageProcessor: image_std has {ImageStd.Count} values for {channels}-channel images; give {channels} (or one).");
        }
        var tables = new float[channels][];
        for (int ch = 0; ch < channels; ch++)
        {
            var t = new float[256];
            float mean = DoNormalize ? (float)ImageMean[ImageMean.Count == 1 ? 0 : ch] : 0f;
            float std = DoNormalize ? (float)ImageStd[ImageStd.Count == 1 ? 0 : ch] : 1f;
            for (int v = 0; v < 256; v++)
            {
                float x = DoRescale ? (float)(v * RescaleFactor) : v; // HF: uint8 → float64 · factor → float32
                t[v] = DoNormalize ? (x - mean) / std : x;            // HF: float32 (x − mean) / std
            }
            tables[ch] = t;
        }
        return tables;
    }

    private static bool Bool(string path, JsonProperty prop) => prop.Value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new InvalidDataException($"{path}: '{prop.Name}' must be true or false."),
    };

    private static double Number(string path, string key, JsonElement v) =>
        v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw new InvalidDataException($"{path}: '{key}' must be a number.");

    private static int Int(string path, string key, JsonElement v) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw new InvalidDataException($"{path}: '{key}' must be an integer.");

    private static List<double> Numbers(string path, JsonProperty prop) => prop.Value.ValueKind switch
    {
        JsonValueKind.Number => [prop.Value.GetDouble()],
        JsonValueKind.Array => prop.Value.EnumerateArray().Select((e, i) => Number(path, $"{prop.Name}[{i}]", e)).ToList(),
        _ => throw new InvalidDataException($"{path}: '{prop.Name}' must be a number or a list of numbers (one per channel)."),
    };

    private static (int, int) ParseSize(string path, JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Number) { int s = Int(path, "size", v); return (s, s); }
        if (v.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: 'size' must be {{\"height\": H, \"width\": W}} or one integer.");
        if (!v.TryGetProperty("height", out var hh) || !v.TryGetProperty("width", out var ww))
        {
            string keys = string.Join(", ", v.EnumerateObject().Select(p => p.Name));
            throw new InvalidDataException(
                $"{path}: 'size' has keys [{keys}]; ViTImageProcessor needs 'height' and 'width' (shortest_edge resizing is not implemented).");
        }
        foreach (var extra in v.EnumerateObject())
            if (extra.Name is not ("height" or "width"))
                throw new InvalidDataException($"{path}: 'size.{extra.Name}' is not supported; give only height and width.");
        return (Int(path, "size.height", hh), Int(path, "size.width", ww));
    }

    /// <summary>Whether two processors produce the same pixels (used to check a dataset against a model folder).</summary>
    public bool SameAs(ViTImageProcessor other) =>
        DoResize == other.DoResize && Size == other.Size && Resample == other.Resample && DoRescale == other.DoRescale &&
        RescaleFactor.Equals(other.RescaleFactor) && DoNormalize == other.DoNormalize &&
        ImageMean.SequenceEqual(other.ImageMean) && ImageStd.SequenceEqual(other.ImageStd);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"ViTImageProcessor(resize={(DoResize ? $"{Size.Height}x{Size.Width} {SupportedResample.GetValueOrDefault(Resample, Resample.ToString(CultureInfo.InvariantCulture))}" : "off")}, " +
        $"rescale={(DoRescale ? RescaleFactor.ToString("R", CultureInfo.InvariantCulture) : "off")}, " +
        $"normalize={(DoNormalize ? $"mean [{string.Join(", ", ImageMean)}] std [{string.Join(", ", ImageStd)}]" : "off")})");
}
