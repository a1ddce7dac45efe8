using Distill.Tests.Data;

namespace Distill.Tests.Runs;

/// <summary>
/// A small image-folder dataset the run tests write for themselves (8×8 grey PNGs, three classes told apart by a bright
/// band at rows 0-1, 3-4 or 6-7, with seeded noise; splits train / validation / test) and a baseline-only recipe on it
/// with no teacher section and no num_labels.
/// </summary>
internal sealed class OwnData : IDisposable
{
    public static readonly string[] Classes = ["bottom", "middle", "top"];

    private readonly DataFiles _files = new();

    public OwnData(int train = 10, int eval = 4)
    {
        var rng = new Random(3);
        foreach (var (split, n) in new[] { ("train", train), ("validation", eval), ("test", eval) })
            for (int c = 0; c < Classes.Length; c++)
                for (int i = 0; i < n; i++)
                {
                    using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(8, 8, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul));
                    int band = Classes[c] switch { "top" => 0, "middle" => 3, _ => 6 };
                    for (int y = 0; y < 8; y++)
                        for (int x = 0; x < 8; x++)
                        {
                            byte v = (byte)(y == band || y == band + 1 ? 200 + rng.Next(56) : rng.Next(60));
                            bitmap.SetPixel(x, y, new SkiaSharp.SKColor(v, v, v));
                        }
                    _files.Bytes($"images/{split}/{Classes[c]}/{i:D3}.png", DataFiles.EncodeImage(bitmap.Copy(), SkiaSharp.SKEncodedImageFormat.Png));
                }
    }

    public string Root => _files.Root;

    public string Images => _files["images"];

    public string this[string relative] => _files[relative];

    /// <summary>A run folder path that does not exist yet.</summary>
    public string NewRunDir() => _files[Path.Combine("runs", Guid.NewGuid().ToString("N")[..8])];

    /// <summary>The recipe: a CNN student (no num_labels), no teacher, image_folder with two evaluation splits, a few steps of baseline.</summary>
    public string Recipe(string name = "recipe.yaml", string? student = null, string? teacher = null, string? stages = null, string? data = null)
    {
        string yaml = $"""
            {teacher ?? ""}
            student:
              model: cnn
              config: {student ?? "{in_channels: 1, image_size: 8, channels: [4], hidden_size: 8}"}
            data:
              dataset: image_folder
              path: {Images}
              eval_splits: [validation, test]
              eval_batch_size: 5
              preprocessing: {"{"}channels: 1{"}"}
            {data ?? ""}
            train:
              optimizer: adamw
              lr: 0.01
              steps: 6
              batch_size: 6
              eval_every: 3
              checkpoint_every: 3
              log_every: 1
              histogram_every: null
              seed: 5
            stages:
            {string.Join("\n", (stages ?? "- kind: baseline").Split('\n').Select(l => "  " + l))}
            """;
        return _files.Text(name, yaml);
    }

    public void Dispose() => _files.Dispose();
}
