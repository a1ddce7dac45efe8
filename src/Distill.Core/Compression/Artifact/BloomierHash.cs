namespace Distill.Compression.Artifact;

/// <summary>
/// The seeded hash of the Bloomier filter (<see cref="BloomierFilter"/>, docs/artifact-format.md "BLOOMIER"): the
/// splitmix64 finaliser, in wrapping 64-bit arithmetic only, so every platform and process computes the same cells
/// (unlike <c>System.HashCode</c>, which is randomised per process). A key's base hash is
/// <c>mix(mix(seed) ^ key)</c>; hash function j is <c>mix(base + j)</c> and the mask <c>mix(base + k)</c>.
/// </summary>
public static class BloomierHash
{
    /// <summary>splitmix64: add the golden-ratio increment, then the two xor-shift-multiply rounds.</summary>
    public static ulong Mix(ulong z)
    {
        unchecked
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>The base hash of <paramref name="key"/> (a flat tensor position) under <paramref name="seed"/>.</summary>
    public static ulong Base(uint seed, long key) => Mix(Mix(seed) ^ (ulong)key);

    /// <summary>The cell hash function <paramref name="j"/> selects: one in each of the k segments of
    /// <paramref name="segment"/> cells (so a key's k cells are distinct), by the high 32 bits scaled to the segment.</summary>
    public static int Cell(ulong baseHash, int j, int segment) =>
        j * segment + (int)(((Mix(unchecked(baseHash + (ulong)j)) >> 32) * (ulong)segment) >> 32);

    /// <summary>The key's t-bit mask, XOR-ed into the value so that a key never stored reads as a uniform t-bit code.</summary>
    public static int Mask(ulong baseHash, int hashes, int bits) => (int)(Mix(unchecked(baseHash + (ulong)hashes)) & ((1UL << bits) - 1));
}
