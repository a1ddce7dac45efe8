namespace Distill.Audio;

/// <summary>
/// Band-limited resampling by windowed-sinc interpolation in polyphase form (Smith, "Digital Audio Resampling";
/// the method of libsamplerate / resampy / torchaudio's <c>sinc_interp_kaiser</c>).
/// <para>
/// For rates r_in → r_out with g = gcd, up = r_out/g and down = r_in/g, output sample n sits at input time
/// t = n·down/up and is y[n] = Σ_k x[k]·h(t − k), with the Kaiser-windowed low-pass
/// h(τ) = 2f_c·sinc(2f_c·τ)·w(τ), f_c = rolloff·min(1, up/down)/2 cycles per input sample (below both Nyquist
/// rates, so downsampling is anti-aliased), w(τ) = I₀(β·√(1 − (τ/W)²))/I₀(β) for |τ| ≤ W, W = zero_crossings/(2f_c).
/// The fractional part of t takes only <c>up</c> values, so the <c>up</c> filter phases are computed once.
/// The signal is zero outside [0, N); the output has ⌈N·up/down⌉ samples (torchaudio's length).
/// Defaults (16 zero crossings, rolloff 0.945, β = 8.555) put the stop band about 90 dB down.
/// </para>
/// </summary>
public sealed class Resampler
{
    /// <summary>Number of sinc zero crossings on each side of the filter centre (filter quality vs. cost).</summary>
    public int ZeroCrossings { get; init; } = 16;

    /// <summary>Cutoff as a fraction of the lower Nyquist rate (leaves a transition band below it).</summary>
    public double Rolloff { get; init; } = 0.945;

    /// <summary>Kaiser window shape parameter.</summary>
    public double KaiserBeta { get; init; } = 8.555;

    /// <summary>Resamples <paramref name="x"/> from <paramref name="fromRate"/> Hz to <paramref name="toRate"/> Hz (a copy when the rates are equal).</summary>
    public float[] Resample(ReadOnlySpan<float> x, int fromRate, int toRate)
    {
        if (fromRate < 1 || toRate < 1) throw new ArgumentException($"Resampler: sample rates must be positive (got {fromRate} → {toRate} Hz).");
        if (ZeroCrossings < 1 || Rolloff is <= 0 or > 1 || KaiserBeta < 0)
            throw new ArgumentException($"Resampler: zero_crossings ≥ 1, rolloff in (0, 1] and beta ≥ 0 required (got {ZeroCrossings}, {Rolloff}, {KaiserBeta}).");
        if (fromRate == toRate) return x.ToArray();
        long g = Gcd(fromRate, toRate);
        long up = toRate / g, down = fromRate / g;
        double fc = Rolloff * Math.Min(1.0, (double)up / down) / 2;  // cycles per input sample
        double halfWidth = ZeroCrossings / (2 * fc);                  // W, in input samples
        int taps = (int)Math.Ceiling(halfWidth);
        // Phase p (t = base + p/up): taps k = base − taps + 1 ... base + taps, weight h(p/up + taps − 1 − j).
        var filters = new double[up][];
        double i0Beta = BesselI0(KaiserBeta);
        for (long p = 0; p < up; p++)
        {
            var f = new double[2 * taps];
            double frac = (double)p / up;
            for (int j = 0; j < f.Length; j++)
            {
                double tau = frac + taps - 1 - j; // t − k
                if (Math.Abs(tau) > halfWidth) continue;
                double r = tau / halfWidth;
                double window = BesselI0(KaiserBeta * Math.Sqrt(Math.Max(0, 1 - r * r))) / i0Beta;
                f[j] = 2 * fc * Sinc(2 * fc * tau) * window;
            }
            filters[p] = f;
        }
        long outLength = (x.Length * up + down - 1) / down;
        var y = new float[outLength];
        for (long n = 0; n < outLength; n++)
        {
            long pos = n * down;
            long baseIndex = pos / up;
            var f = filters[pos % up];
            long first = baseIndex - taps + 1;
            double acc = 0;
            int jStart = (int)Math.Max(0, -first), jEnd = (int)Math.Min(f.Length, x.Length - first);
            for (int j = jStart; j < jEnd; j++) acc += x[(int)(first + j)] * f[j];
            y[n] = (float)acc;
        }
        return y;
    }

    private static double Sinc(double v) => v == 0 ? 1 : Math.Sin(Math.PI * v) / (Math.PI * v);

    /// <summary>Modified Bessel function of the first kind, order 0, by its power series.</summary>
    private static double BesselI0(double x)
    {
        double sum = 1, term = 1, q = x * x / 4;
        for (int k = 1; k < 200 && term > 1e-17 * sum; k++)
        {
            term *= q / ((double)k * k);
            sum += term;
        }
        return sum;
    }

    private static long Gcd(long a, long b) { while (b != 0) (a, b) = (b, a % b); return a; }
}
