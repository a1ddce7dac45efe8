using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// SpecAugment span masks (Park et al. 2019) as HF's <c>_compute_mask_indices</c> defines them: with one uniform
/// ε ∈ [0, 1) per batch, example i gets n_i = max(min_masks, ⌊p·len_i / span + ε⌋) spans (capped so they fit), whose
/// start positions are drawn without replacement from [0, len_i − span]; the spans [start, start + span) are masked.
/// Randomness comes from a torch generator (the training stage's, seeded), not numpy's, so the masks are distributed
/// like HF's but not bit-identical to them.
/// Deliberate difference: HF raises when span &gt; sequence length; here no span fits, so nothing is masked for that
/// batch (a batch of very short clips must not abort a training run).
/// </summary>
internal static class Wav2Vec2SpecAugment
{
    /// <param name="batch">Batch size.</param>
    /// <param name="length">Padded length of the masked axis.</param>
    /// <param name="prob">mask_*_prob.</param>
    /// <param name="span">mask_*_length.</param>
    /// <param name="realLengths">Real (unpadded) length per example, or null = all <paramref name="length"/>.</param>
    /// <param name="minMasks">mask_*_min_masks.</param>
    /// <param name="generator">Where ε and the starts are drawn (on its device); null = torch's global generator.</param>
    /// <returns>(B, length) bool mask, true = masked.</returns>
    public static bool[,] ComputeMask(int batch, int length, double prob, int span, long[]? realLengths, int minMasks, Generator? generator)
    {
        var mask = new bool[batch, length];
        if (span > length || span < 1) return mask;
        double epsilon = torch.rand(1, dtype: ScalarType.Float64, device: generator?.device, generator: generator).item<double>();

        int NumSpans(long inputLength)
        {
            int n = (int)(prob * inputLength / span + epsilon);
            n = Math.Max(n, minMasks);
            if ((long)n * span > length) n = length / span;
            if (inputLength - (span - 1) < n) n = (int)Math.Max(inputLength - (span - 1), 0);
            return n;
        }

        if (NumSpans(length) == 0) return mask;
        for (int b = 0; b < batch; b++)
        {
            long real = realLengths?[b] ?? length;
            int n = NumSpans(real);
            long choices = real - (span - 1);
            if (n == 0 || choices <= 0) continue;
            var starts = torch.randperm(choices, device: generator?.device, generator: generator).narrow(0, 0, n).cpu().data<long>().ToArray();
            foreach (long s in starts)
                for (long j = s; j < Math.Min(s + span, length); j++) mask[b, j] = true;
        }
        return mask;
    }

    /// <summary>The mask as a (B, length) bool tensor on <paramref name="device"/>.</summary>
    public static Tensor ToTensor(bool[,] mask, Device device)
    {
        int b = mask.GetLength(0), t = mask.GetLength(1);
        var flat = new bool[b * t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) flat[i * t + j] = mask[i, j];
        return torch.tensor(flat, new long[] { b, t }).to(device);
    }
}
