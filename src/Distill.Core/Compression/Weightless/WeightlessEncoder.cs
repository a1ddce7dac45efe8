using System.Diagnostics;
using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Weightless;

/// <summary>
/// The encode-and-freeze step of Weightless (Reagen et al., "Weightless: Lossy weight encoding for deep neural network
/// compression", ICML 2018, §3–4): a pruned, weight-shared layer's non-zeros go into a Bloomier filter whose t-bit
/// values are their cluster indices (<see cref="BloomierTensor.Encode"/>); the layer is then replaced by what the table
/// decodes to — false positives included, exactly as the artifact will load it — and frozen (no gradient), so that
/// fine-tuning the later layers absorbs the false positives. The procedure itself (encode one layer, fine-tune the
/// rest, next layer) is the sequence of <c>weightless</c> stages in a recipe.
/// </summary>
public static class WeightlessEncoder
{
    /// <summary>Encodes <paramref name="weight"/> with <paramref name="bits"/>-bit cells and writes the decoded tensor
    /// into it (under no_grad); the caller freezes it.</summary>
    public static WeightlessLayer Encode(PrunableWeight weight, int bits, uint seed, double cellsPerKey)
    {
        var shape = weight.Weight.shape.ToArray();
        float[] dense;
        using (var cpu = weight.Weight.detach().cpu().to(ScalarType.Float32).contiguous()) dense = cpu.data<float>().ToArray();
        BloomierTensor table;
        try { table = BloomierTensor.Encode(dense, bits, seed, cellsPerKey); }
        catch (ArgumentException e) { throw new ArgumentException($"'{weight.Name}': {e.Message}", e); }
        var clock = Stopwatch.StartNew();
        var decoded = table.Decode(dense.Length);
        double decodeMs = clock.Elapsed.TotalMilliseconds;
        long nonzeros = 0, pruned = 0, falsePositives = 0;
        for (long i = 0; i < dense.Length; i++)
        {
            if (dense[i] != 0)
            {
                nonzeros++;
                if (decoded[i] != dense[i]) throw new InvalidOperationException($"Internal error: '{weight.Name}' position {i} decodes to {decoded[i]}, stored {dense[i]}.");
            }
            else
            {
                pruned++;
                if (decoded[i] != 0) falsePositives++;
            }
        }
        using (torch.no_grad())
        using (var flat = torch.tensor(decoded))
        using (var t = flat.view(shape))
            weight.Weight.copy_(t);
        return new WeightlessLayer(weight.Name, shape, table, nonzeros, pruned, falsePositives, ArtifactEncoder.BloomierBytes(table), decodeMs);
    }
}
