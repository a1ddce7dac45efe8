namespace Distill.Tests.Training;

/// <summary>A bit-at-a-time reflected CRC-32 (init and final XOR 0xFFFFFFFF), straight from the definition and with no
/// table, as the independent reference the event-file reader checks the writer's (TorchSharp's) CRC-32C against.</summary>
internal static class BitwiseCrc
{
    public const uint Castagnoli = 0x82F63B78u;

    public static uint Compute(ReadOnlySpan<byte> data, uint reflectedPolynomial)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ reflectedPolynomial : crc >> 1;
        }
        return ~crc;
    }
}
