using Distill.Caching;
using Distill.Data;
using Distill.Data.Mnist;
using Distill.Losses;
using Distill.Models;
using Distill.Models.Cnn;
using Distill.Recipes;
using TorchSharp;

namespace Distill.Tests.Caching;

/// <summary>A tiny MNIST-format folder (random digits written as IDX files), a small CNN teacher/student and KD + hint terms.</summary>
internal sealed class CacheFixture : IDisposable
{
    public const int Examples = 40;

    public CacheFixture(long seed = 3)
    {
        Root = Path.Combine(Path.GetTempPath(), "distill-tests", "cache-" + Guid.NewGuid().ToString("N"));
        DataDir = Path.Combine(Root, "mnist");
        Directory.CreateDirectory(DataDir);
        var rng = new Random((int)seed);
        WriteIdx("train", Examples, rng);
        WriteIdx("t10k", 8, rng);
        Spec = new DataSpec { Dataset = "mnist", Path = DataDir, Preprocessing = new PreprocessSpec { Mean = [0.13], Std = [0.31] } };
        var init = ParamInit.Seeded(seed);
        Teacher = ParamInit.Build(init, () => new CnnModel(new CnnConfig { Channels = [4, 8], HiddenSize = 16 }));
        Student = ParamInit.Build(init, () => new CnnModel(new CnnConfig { Channels = [2, 4], HiddenSize = 8 }));
        Teacher.eval();
        var shapes = ShapeProbe.Measure(Student, Teacher, MnistDataset.Kind.Inputs(Spec));
        Terms = ParamInit.Build(init, () => new List<ILossTerm>
        {
            LossRegistry.Default.Create(new SoftTargetSpec { Temperature = 4, Alpha = 0.9 }, shapes),
            LossRegistry.Default.Create(new HintSpec { Student = "blocks.1", Teacher = "blocks.1", Weight = 0.5 }, shapes),
        });
    }

    public string Root { get; }
    public string DataDir { get; }
    public DataSpec Spec { get; set; }
    public CnnModel Teacher { get; }
    public CnnModel Student { get; }
    public List<ILossTerm> Terms { get; }
    public string CacheDir => Path.Combine(Root, "cache");
    public TeacherNeeds Needs => TeacherNeeds.From(Terms);

    public IDataset Train() => MnistDataset.Open(Spec.Path, "train", Spec.Preprocessing.Mean, Spec.Preprocessing.Std);

    public TeacherCacheKey Key(IDataset train, CacheEncoding encoding = CacheEncoding.Fp32, int? topK = null) =>
        TeacherCacheKey.Compute(Teacher, train, Distill.Stages.DistillStage.CacheData(Spec, 42) with { Split = "train" }, Needs, encoding, topK);

    public TeacherCache OpenOrBuild(CacheEncoding encoding = CacheEncoding.Fp32, int? topK = null, string? dir = null)
    {
        var train = Train();
        return TeacherCache.OpenOrBuild(dir ?? CacheDir, Key(train, encoding, topK), Teacher, train, Needs,
            new TeacherCacheSpec { Encoding = encoding, TopK = topK }, batchSize: 16, torch.CPU);
    }

    /// <summary>Changes one pixel of training image <paramref name="index"/> in the IDX file.</summary>
    public void ChangePixel(int index)
    {
        string path = Path.Combine(DataDir, "train-images-idx3-ubyte");
        var bytes = File.ReadAllBytes(path);
        int offset = 16 + index * 784 + 400;
        bytes[offset] = (byte)(bytes[offset] ^ 0x5A);
        File.WriteAllBytes(path, bytes);
    }

    private void WriteIdx(string prefix, int n, Random rng)
    {
        var images = new byte[16 + n * 784];
        BigEndian(images, 0, 2051);
        BigEndian(images, 4, n);
        BigEndian(images, 8, 28);
        BigEndian(images, 12, 28);
        rng.NextBytes(images.AsSpan(16));
        var labels = new byte[8 + n];
        BigEndian(labels, 0, 2049);
        BigEndian(labels, 4, n);
        for (int i = 0; i < n; i++) labels[8 + i] = (byte)rng.Next(10);
        File.WriteAllBytes(Path.Combine(DataDir, $"{prefix}-images-idx3-ubyte"), images);
        File.WriteAllBytes(Path.Combine(DataDir, $"{prefix}-labels-idx1-ubyte"), labels);
    }

    private static void BigEndian(byte[] b, int o, int v)
    {
        b[o] = (byte)(v >> 24);
        b[o + 1] = (byte)(v >> 16);
        b[o + 2] = (byte)(v >> 8);
        b[o + 3] = (byte)v;
    }

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}
