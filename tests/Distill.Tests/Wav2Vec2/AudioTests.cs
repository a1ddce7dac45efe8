using System.Buffers.Binary;
using System.Text;
using Distill.Audio;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static Distill.Tests.Wav2Vec2.Wav2Vec2TestData;

namespace Distill.Tests.Wav2Vec2;

public class AudioTests(ITestOutputHelper log)
{
    private static string Recordings => Path.Combine(TestPaths.Data, "fsdd");

    [Theory]
    [InlineData("groupnorm")]
    [InlineData("layernorm")]
    public void FeatureExtractorReproducesHfInputValues(string variant)
    {
        string folder = Folder(variant, "Wav2Vec2Model");
        var reference = Reference(folder);
        var extractor = Wav2Vec2FeatureExtractor.FromJsonFile(Path.Combine(folder, "preprocessor_config.json"));
        Assert.Equal(variant == "layernorm", extractor.ReturnAttentionMask);
        var raw = reference["raw_audio"];
        var lengths = reference["raw_audio_lengths"].data<long>().ToArray();
        // The clips themselves, read with WavReader: raw_audio is int16/32768 of the FSDD files (groupnorm: first clip cropped to 3,200 samples).
        var clips = new List<float[]>();
        string[] files = ["3_jackson_0.wav", "7_theo_1.wav"];
        for (int i = 0; i < 2; i++)
        {
            var wav = WavReader.Read(Path.Combine(Recordings, files[i]));
            Assert.Equal(8000, wav.SampleRate);
            var clip = wav.ToMono().Take((int)lengths[i]).ToArray();
            Assert.True(raw[i].narrow(0, 0, lengths[i]).equal(torch.tensor(clip)).all().item<bool>(), $"{files[i]} differs from raw_audio");
            clips.Add(clip);
        }
        // SOURCES.md: fed at 8 kHz with sampling_rate=16000 claimed, so claim the extractor's rate here too.
        var features = extractor.Extract(clips, extractor.SamplingRate);
        AssertClose(log, "input_values", features.InputValues, reference["input_values"], 1e-6);
        if (variant == "layernorm")
            Assert.True(features.AttentionMask!.equal(reference["attention_mask"]).all().item<bool>());
        else Assert.Null(features.AttentionMask);
    }

    [Fact]
    public void FeatureExtractorRefusesAnotherRateAndBadConfig()
    {
        var extractor = new Wav2Vec2FeatureExtractor();
        var ex = Assert.Throws<ArgumentException>(() => extractor.Extract([new float[500]], 8000));
        Assert.Contains("Resampler", ex.Message);
        string dir = Path.Combine(Path.GetTempPath(), $"w2v-fe-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "preprocessor_config.json");
            File.WriteAllText(path, """{"feature_size": 1, "sampling_rate": 16000, "do_normalise": true}""");
            var bad = Assert.Throws<InvalidDataException>(() => Wav2Vec2FeatureExtractor.FromJsonFile(path));
            Assert.Contains(path, bad.Message);
            Assert.Contains("do_normalise", bad.Message);
            File.WriteAllText(path, """{"feature_size": 80}""");
            bad = Assert.Throws<InvalidDataException>(() => Wav2Vec2FeatureExtractor.FromJsonFile(path));
            Assert.Contains("feature_size", bad.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void NormalisationOverRealSamplesAndPaddingSides()
    {
        float[] a = [1, 2, 3, 4], b = [10, 20];
        var right = new Wav2Vec2FeatureExtractor { ReturnAttentionMask = true, PaddingValue = -5 }.Extract([a, b], 16000);
        // b: mean 15, var 25 → (±5)/√(25 + 1e-7)
        double s = Math.Sqrt(25 + 1e-7);
        Assert.Equal(new[] { (float)(-5 / s), (float)(5 / s), -5f, -5f }, right.InputValues[1].data<float>().ToArray());
        Assert.Equal(new[] { 1, 1, 0, 0 }, right.AttentionMask![1].data<int>().ToArray());
        var left = new Wav2Vec2FeatureExtractor { ReturnAttentionMask = true, PaddingSide = "left" }.Extract([a, b], 16000);
        Assert.Equal(new[] { 0f, 0f, (float)(-5 / s), (float)(5 / s) }, left.InputValues[1].data<float>().ToArray());
        Assert.Equal(new[] { 0, 0, 1, 1 }, left.AttentionMask![1].data<int>().ToArray());
        var raw = new Wav2Vec2FeatureExtractor { DoNormalize = false }.Extract([a, b], 16000, padTo: 6);
        Assert.Equal(new[] { 10f, 20f, 0f, 0f, 0f, 0f }, raw.InputValues[1].data<float>().ToArray());
    }

    [Fact]
    public void ResamplingA8kToneTo16kKeepsItsFrequencyAmplitudeAndLength()
    {
        var resampler = new Resampler();
        foreach (double hz in new[] { 440.0, 1000.0, 3000.0 })
        {
            int n = 8000;
            var x = Enumerable.Range(0, n).Select(i => (float)(0.5 * Math.Sin(2 * Math.PI * hz * i / 8000))).ToArray();
            var y = resampler.Resample(x, 8000, 16000);
            Assert.Equal(2 * n, y.Length);
            // Against the ideal continuous tone at the new sample times, away from the zero-padded edges.
            double maxErr = 0;
            for (int i = 400; i < y.Length - 400; i++)
                maxErr = Math.Max(maxErr, Math.Abs(y[i] - 0.5 * Math.Sin(2 * Math.PI * hz * i / 16000)));
            double peak = PeakFrequency(y.AsSpan(400, y.Length - 800).ToArray(), 16000, hz - 2, hz + 2);
            log.WriteLine($"{hz} Hz: peak at {peak:F2} Hz, max |y − ideal| = {maxErr:E2}");
            Assert.InRange(peak, hz - 0.1, hz + 0.1);
            Assert.True(maxErr < 1e-3, $"{hz} Hz: interpolation error {maxErr}");
        }
        Assert.Equal(5805, resampler.Resample(new float[15999], 44100, 16000).Length); // ⌈15999·160/441⌉
    }

    [Fact]
    public void DownsamplingRemovesContentAboveTheNewNyquistRate()
    {
        var resampler = new Resampler();
        float[] Tone(double hz) => Enumerable.Range(0, 16000).Select(i => (float)Math.Sin(2 * Math.PI * hz * i / 16000)).ToArray();
        double Rms(float[] v) => Math.Sqrt(v.Skip(200).Take(v.Length - 400).Average(s => (double)s * s));
        var kept = resampler.Resample(Tone(3000), 16000, 8000);
        var aliased = resampler.Resample(Tone(5000), 16000, 8000);  // would fold to 3 kHz without the low-pass
        Assert.Equal(8000, kept.Length);
        log.WriteLine($"3 kHz rms {Rms(kept):F4}, 5 kHz rms {Rms(aliased):E2}");
        Assert.InRange(Rms(kept), 0.70, 0.72); // 1/√2
        Assert.True(Rms(aliased) < 1e-3, "5 kHz must be attenuated by more than 60 dB");
    }

    [Fact]
    public void WavReaderDecodesFormatsAndChannels()
    {
        short[] pcm = [0, 16384, -32768, 32767];
        var stereo16 = Wav(1, 2, 16000, 16, pcm.SelectMany(s => BitConverter.GetBytes(s)).ToArray());
        var a = WavReader.Decode(stereo16, "stereo16.wav");
        Assert.Equal(2, a.Channels.Length);
        Assert.Equal(new[] { 0f, -1f }, a.Channels[0]);
        Assert.Equal(new[] { 0.5f, 32767 / 32768f }, a.Channels[1]);
        Assert.Equal(new[] { 0.25f, (-1f + 32767 / 32768f) / 2 }, a.ToMono());

        var u8 = WavReader.Decode(Wav(1, 1, 8000, 8, [0, 128, 255]), "u8.wav");
        Assert.Equal(new[] { -1f, 0f, 127 / 128f }, u8.Channels[0]);
        var f32 = WavReader.Decode(Wav(3, 1, 8000, 32, new[] { 0.25f, -0.75f }.SelectMany(BitConverter.GetBytes).ToArray()), "f32.wav");
        Assert.True(f32.IsFloat);
        Assert.Equal(new[] { 0.25f, -0.75f }, f32.Channels[0]);
        var s24 = WavReader.Decode(Wav(1, 1, 8000, 24, [0x00, 0x00, 0x80, 0xFF, 0xFF, 0x7F]), "s24.wav");
        Assert.Equal(new[] { -1f, 8388607 / 8388608f }, s24.Channels[0]);

        var real = WavReader.Read(Path.Combine(Recordings, "7_theo_1.wav"));
        Assert.Equal((8000, 1, 16, 2892), (real.SampleRate, real.Channels.Length, real.BitsPerSample, real.Length));
    }

    [Theory]
    [InlineData("notriff", "not a RIFF/WAVE file")]
    [InlineData("truncated", "truncated")]
    [InlineData("adpcm", "unsupported sample format")]
    [InlineData("nodata", "no data chunk")]
    [InlineData("oddframes", "whole number")]
    [InlineData("datafirst", "before any fmt chunk")]
    public void MalformedWavFilesGetErrorsNamingTheFile(string kind, string fragment)
    {
        byte[] good = Wav(1, 1, 8000, 16, new byte[8]);
        byte[] bytes = kind switch
        {
            "notriff" => Encoding.ASCII.GetBytes("ID3\u0004 this is an mp3"),
            "truncated" => good[..^14],
            "adpcm" => Wav(2, 1, 8000, 4, new byte[8]),
            "nodata" => good[..36],
            "oddframes" => Wav(1, 1, 8000, 16, new byte[7]),
            "datafirst" => [.. good[..12], .. good[36..], .. good[12..36]],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        string path = Path.Combine(Path.GetTempPath(), $"w2v-{kind}-{Guid.NewGuid():N}.wav");
        File.WriteAllBytes(path, bytes);
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => WavReader.Read(path));
            Assert.Contains(path, ex.Message);
            Assert.Contains(fragment, ex.Message);
        }
        finally { File.Delete(path); }
    }

    /// <summary>A minimal RIFF/WAVE file (with a LIST chunk before fmt, to exercise chunk skipping).</summary>
    internal static byte[] Wav(ushort format, ushort channels, int rate, ushort bits, byte[] data)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        int blockAlign = channels * Math.Max(1, bits / 8);
        w.Write(Encoding.ASCII.GetBytes("RIFF")); w.Write(0); w.Write(Encoding.ASCII.GetBytes("WAVE"));
        w.Write(Encoding.ASCII.GetBytes("fmt ")); w.Write(16); w.Write(format); w.Write(channels); w.Write(rate);
        w.Write(rate * blockAlign); w.Write((ushort)blockAlign); w.Write(bits);
        w.Write(Encoding.ASCII.GetBytes("data")); w.Write(data.Length); w.Write(data);
        if (data.Length % 2 == 1) w.Write((byte)0);
        w.Write(Encoding.ASCII.GetBytes("LIST")); w.Write(3); w.Write(new byte[] { 1, 2, 3, 0 });
        var bytes = ms.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), bytes.Length - 8);
        return bytes;
    }

    /// <summary>Frequency of the largest DFT magnitude in [lo, hi], scanned in 0.01 Hz steps (Hann-windowed).</summary>
    private static double PeakFrequency(float[] x, int rate, double lo, double hi)
    {
        double best = lo, bestMag = -1;
        for (double f = lo; f <= hi; f += 0.01)
        {
            double re = 0, im = 0, w = 2 * Math.PI * f / rate;
            for (int i = 0; i < x.Length; i++)
            {
                double win = 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / (x.Length - 1));
                re += x[i] * win * Math.Cos(w * i);
                im -= x[i] * win * Math.Sin(w * i);
            }
            double mag = re * re + im * im;
            if (mag > bestMag) { bestMag = mag; best = f; }
        }
        return best;
    }
}
