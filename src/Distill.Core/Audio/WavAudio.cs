namespace Distill.Audio;

/// <summary>
/// Decoded PCM audio: <see cref="Channels"/> planes of equal length, samples scaled to [−1, 1)
/// (integer PCM divided by 2^(bits−1), 8-bit unsigned re-centred; float data kept as stored).
/// </summary>
/// <param name="SampleRate">Samples per second per channel.</param>
/// <param name="Channels">One array per channel.</param>
/// <param name="BitsPerSample">Bit depth of the stored samples (8, 16, 24, 32 or 64).</param>
/// <param name="IsFloat">Whether the file stored IEEE floats.</param>
public sealed record WavAudio(int SampleRate, float[][] Channels, int BitsPerSample, bool IsFloat)
{
    /// <summary>Samples per channel.</summary>
    public int Length => Channels.Length == 0 ? 0 : Channels[0].Length;

    /// <summary>Duration in seconds.</summary>
    public double Seconds => (double)Length / SampleRate;

    /// <summary>The channel mean (a copy of the single channel for mono files).</summary>
    public float[] ToMono()
    {
        if (Channels.Length == 1) return (float[])Channels[0].Clone();
        var mono = new float[Length];
        for (int i = 0; i < mono.Length; i++)
        {
            double sum = 0;
            foreach (var c in Channels) sum += c[i];
            mono[i] = (float)(sum / Channels.Length);
        }
        return mono;
    }
}
