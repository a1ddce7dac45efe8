using System.IO.Compression;

namespace Distill.Tests.Runs;

/// <summary>
/// Fixtures the fault tests make for themselves in a temp folder: a tiny MNIST (gzip IDX files of seeded random
/// images), a small CNN recipe on it, and ways to damage files (truncate, flip a byte).
/// </summary>
internal sealed class FaultFixtures : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "distill-tests", "faults-" + Guid.NewGuid().ToString("N"));

    public FaultFixtures()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(DataDir);
        WriteMnist(DataDir, "train", 256, seed: 1);
        WriteMnist(DataDir, "t10k", 64, seed: 2);
    }

    public string DataDir => Path.Combine(Root, "mnist");

    /// <summary>A run folder path that does not exist yet.</summary>
    public string NewRunDir() => Path.Combine(Root, "runs", Guid.NewGuid().ToString("N")[..8]);

    public string File(string name) => Path.Combine(Root, name);

    /// <summary>A baseline-only recipe on the tiny MNIST; <paramref name="train"/> lines replace the train section's defaults.</summary>
    public string Recipe(string name = "recipe.yaml", string? train = null, string? teacher = null, string? stages = null, string? distill = null)
    {
        string yaml = $"""
            teacher:
            {Indent(teacher ?? "model: cnn\nconfig: {channels: [4, 8], hidden_size: 16}")}
            student:
              model: cnn
              config: {"{"}channels: [4, 8], hidden_size: 16{"}"}
            data:
              dataset: mnist
              path: {DataDir}
              eval_batch_size: 64
            {distill ?? ""}
            train:
            {Indent(train ?? "optimizer: adamw\nlr: 0.003\nsteps: 6\nbatch_size: 32\ncheckpoint_every: 2\nlog_every: 1\nhistogram_every: null\nseed: 7")}
            stages:
            {Indent(stages ?? "- kind: baseline")}
            output:
              tensorboard: false
            """;
        string path = File(name);
        System.IO.File.WriteAllText(path, yaml);
        return path;
    }

    private static string Indent(string lines) => string.Join("\n", lines.Split('\n').Select(l => "  " + l));

    /// <summary>Writes <c>{prefix}-images-idx3-ubyte.gz</c> and <c>{prefix}-labels-idx1-ubyte.gz</c> with n examples.</summary>
    public static void WriteMnist(string dir, string prefix, int n, int seed)
    {
        var rng = new Random(seed);
        var labels = new byte[n];
        var pixels = new byte[n * 28 * 28];
        for (int i = 0; i < n; i++)
        {
            labels[i] = (byte)(i % 10);
            // A class-dependent blob plus noise, so that a few steps of training can learn something.
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                {
                    bool on = Math.Abs(y - 4 - 2 * labels[i]) < 3 && x > 4 && x < 24;
                    pixels[i * 784 + y * 28 + x] = (byte)(on ? 200 + rng.Next(56) : rng.Next(40));
                }
        }
        WriteIdx(Path.Combine(dir, $"{prefix}-images-idx3-ubyte.gz"), 2051, [n, 28, 28], pixels);
        WriteIdx(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte.gz"), 2049, [n], labels);
    }

    private static void WriteIdx(string path, int magic, int[] dims, byte[] data)
    {
        using var fs = System.IO.File.Create(path);
        using var gz = new GZipStream(fs, CompressionLevel.Fastest);
        void BE(int v) => gz.Write([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        BE(magic);
        foreach (int d in dims) BE(d);
        gz.Write(data);
    }

    /// <summary>Cuts <paramref name="path"/> to <paramref name="keep"/> bytes.</summary>
    public static void Truncate(string path, long keep)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Write);
        fs.SetLength(keep);
    }

    /// <summary>Inverts the bits of the byte at <paramref name="offset"/> (negative: from the end).</summary>
    public static void FlipByte(string path, long offset)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        fs.Position = offset >= 0 ? offset : fs.Length + offset;
        int b = fs.ReadByte();
        fs.Position--;
        fs.WriteByte((byte)~b);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
