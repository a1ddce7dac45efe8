using Distill.Design;
using Distill.Models.Cnn;
using Xunit;

namespace Distill.Tests.Design;

public class ProfileCacheTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "distill-tests", "profiles-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static DeviceFingerprint Fingerprint(string processor = "Test CPU 9000", int threads = 1) => new()
    {
        Device = "cpu", Processor = processor, Threads = threads, TorchSharpVersion = "0.107.0.0", LibTorchVersion = "2.10.0", Architecture = "x64",
    };

    private static ProfileEntry Entry(double ms) => new()
    {
        Family = "cnn", Label = "C[4] H16", Inputs = "pixel_values 1x1x28x28 Float32",
        Latency = LatencyMeasurement.FromSamples([ms, ms * 1.1, ms * 0.9, ms * 1.2], warmup: 2, passesPerSample: 3, loadAverage: 1.5),
    };

    [Fact]
    public void MeasurementsSurviveASaveAndReopen()
    {
        var cache = ProfileCache.Open(_dir, Fingerprint());
        Assert.Equal(0, cache.Count);
        cache.Put("k1", Entry(2.0));
        cache.Save();

        var again = ProfileCache.Open(_dir, Fingerprint());
        Assert.Equal(1, again.LoadedCount);
        Assert.True(again.TryGet("k1", out var e));
        Assert.Equal(Entry(2.0).Latency with { MeasuredUtc = e.Latency.MeasuredUtc }, e.Latency);
        Assert.Equal(2.0 * 1.05, e.Latency.MedianMs, 12); // median of 1.8, 2.0, 2.2, 2.4
        Assert.Equal(3, e.Latency.PassesPerSample);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void AnotherDeviceOrThreadCountDoesNotReuseMeasurements()
    {
        var cache = ProfileCache.Open(_dir, Fingerprint());
        cache.Put("k1", Entry(2.0));
        cache.Save();

        var otherThreads = ProfileCache.Open(_dir, Fingerprint(threads: 2));
        var otherCpu = ProfileCache.Open(_dir, Fingerprint(processor: "Other CPU"));
        Assert.NotEqual(cache.FilePath, otherThreads.FilePath);
        Assert.NotEqual(cache.FilePath, otherCpu.FilePath);
        Assert.False(otherThreads.TryGet("k1", out _));
        Assert.False(otherCpu.TryGet("k1", out _));
        Assert.Equal(Fingerprint().Hash, Fingerprint().Hash);
        Assert.Matches("^[0-9a-f]{16}$", Fingerprint().Hash);
    }

    [Fact]
    public void AFileOfAnotherDeviceUnderThisNameIsRefused()
    {
        var mine = Fingerprint();
        Directory.CreateDirectory(_dir);
        var other = ProfileCache.Open(_dir, Fingerprint(processor: "Other CPU"));
        other.Put("k1", Entry(1.0));
        other.Save();
        File.Move(other.FilePath, Path.Combine(_dir, mine.Hash + ".json"));

        var e = Assert.Throws<InvalidDataException>(() => ProfileCache.Open(_dir, mine));
        Assert.Contains("another device (Other CPU", e.Message);
        Assert.Contains("delete", e.Message);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("null")]
    [InlineData("{\"format\": \"something-else\"}")]
    public void CorruptFilesAreReportedWithTheFix(string content)
    {
        var fp = Fingerprint();
        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, fp.Hash + ".json");
        File.WriteAllText(path, content);
        var e = Assert.Throws<InvalidDataException>(() => ProfileCache.Open(_dir, fp));
        Assert.Contains(path, e.Message);
        Assert.Contains("delete", e.Message);
    }

    [Fact]
    public void NonPositiveLatencyInTheFileIsRefused()
    {
        var fp = Fingerprint();
        var cache = ProfileCache.Open(_dir, fp);
        cache.Put("bad", Entry(1.0) with { Latency = Entry(1.0).Latency with { MedianMs = 0 } });
        cache.Save();
        var e = Assert.Throws<InvalidDataException>(() => ProfileCache.Open(_dir, fp));
        Assert.Contains("entries.bad", e.Message);
    }

    [Fact]
    public void ConcurrentWritersKeepEachOthersEntries()
    {
        var a = ProfileCache.Open(_dir, Fingerprint());
        var b = ProfileCache.Open(_dir, Fingerprint());
        a.Put("ka", Entry(1.0));
        b.Put("kb", Entry(3.0));
        a.Save();
        b.Save(); // b never saw "ka": the save merges with the file instead of overwriting it
        var merged = ProfileCache.Open(_dir, Fingerprint());
        Assert.True(merged.TryGet("ka", out _));
        Assert.True(merged.TryGet("kb", out _));
    }

    [Fact]
    public void KeyChangesWithTheConfigAndTheInputShapeOnly()
    {
        var c = new CnnConfig { Channels = [4, 8], HiddenSize = 16 };
        string inputs = "pixel_values 1x1x28x28 Float32";
        Assert.Equal(ProfileCache.Key("cnn", c, inputs), ProfileCache.Key("cnn", c with { }, inputs));
        Assert.NotEqual(ProfileCache.Key("cnn", c, inputs), ProfileCache.Key("cnn", c with { HiddenSize = 32 }, inputs));
        Assert.NotEqual(ProfileCache.Key("cnn", c, inputs), ProfileCache.Key("cnn", c with { Channels = [4, 16] }, inputs));
        Assert.NotEqual(ProfileCache.Key("cnn", c, inputs), ProfileCache.Key("cnn", c, "pixel_values 8x1x28x28 Float32"));
    }

    [Fact]
    public void KeyChangesWithTheRuntime()
    {
        var c = new CnnConfig { Channels = [4, 8], HiddenSize = 16 };
        string inputs = "pixel_values 1x1x28x28 Float32";
        var keys = new[] { "torchsharp", "onnxruntime fp32", "onnxruntime int8" }.Select(r => ProfileCache.Key("cnn", c, inputs, r)).ToList();
        Assert.Equal(3, keys.Distinct().Count());
        Assert.Equal(ProfileCache.Key("cnn", c, inputs), keys[0]);
    }
}
