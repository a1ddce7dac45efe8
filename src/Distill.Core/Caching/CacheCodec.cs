using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Caching;

/// <summary>
/// Encodes batches of teacher outputs into fixed-size records and decodes gathered records back to float32.
/// <code>
/// fp32 / fp16   values (S)
/// int8          scales float32 (R), values int8 (R, K)   x ≈ q · s_r, s_r = max_r|x| / 127, rows R = S[0] (1 for a vector)
/// top-k logits  values (k) in the encoding above, indices int32 (k), tail float32 (1)
///               tail = log( mean_{j ∉ top-k} exp(z_j) ): decoding fills every other class with it, which keeps the
///               probability mass of the other classes exact at T = 1 (spread evenly among them).
/// </code>
/// </summary>
internal static class CacheCodec
{
    public static long ElementSize(string dtype) => dtype switch
    {
        "float32" or "int32" => 4,
        "float16" => 2,
        "int8" => 1,
        _ => throw new TeacherCacheException($"Teacher cache: unknown part dtype '{dtype}' in the manifest."),
    };

    public static ScalarType ScalarTypeOf(string dtype) => dtype switch
    {
        "float32" => ScalarType.Float32,
        "float16" => ScalarType.Float16,
        "int8" => ScalarType.Int8,
        "int32" => ScalarType.Int32,
        _ => throw new TeacherCacheException($"Teacher cache: unknown part dtype '{dtype}' in the manifest."),
    };

    /// <summary>True when an entry of this per-example shape is stored as top-k logits.</summary>
    public static bool IsTopK(string name, long[] shape, int? topK) => name == "logits" && topK is { } k && shape.Length == 1 && k < shape[0];

    public static List<CachePart> Parts(string name, long[] shape, CacheEncoding encoding, int? topK)
    {
        if (IsTopK(name, shape, topK))
        {
            long k = topK!.Value;
            return [.. ValueParts([k], encoding), new CachePart("indices", "int32", [k]), new CachePart("tail", "float32", [1])];
        }
        return ValueParts(shape, encoding);
    }

    private static List<CachePart> ValueParts(long[] shape, CacheEncoding encoding)
    {
        var (rows, cols) = Rows(shape);
        return encoding switch
        {
            CacheEncoding.Fp32 => [new CachePart("values", "float32", shape)],
            CacheEncoding.Fp16 => [new CachePart("values", "float16", shape)],
            CacheEncoding.Int8 => [new CachePart("scales", "float32", [rows]), new CachePart("values", "int8", [rows, cols])],
            _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, null),
        };
    }

    /// <summary>Rows of per-row int8 scaling: (C,H,W) → C rows of H·W (per channel), (T,D) → T rows (per token), (C) → 1 row.</summary>
    private static (long Rows, long Cols) Rows(long[] shape)
    {
        long numel = shape.Aggregate(1L, (a, b) => a * b);
        long rows = shape.Length >= 2 ? shape[0] : 1;
        return (rows, rows == 0 ? 0 : numel / rows);
    }

    /// <summary>The parts of a batch <paramref name="x"/> (B, ...shape), each (B, ...part shape), contiguous on CPU in the part's dtype.</summary>
    public static List<Tensor> Encode(Tensor x, CacheEntry entry, CacheEncoding encoding, int? topK)
    {
        var t = x.detach().to(ScalarType.Float32).cpu();
        long b = t.shape[0];
        if (IsTopK(entry.Name, entry.Shape, topK))
        {
            int k = topK!.Value;
            var (values, indices) = t.topk(k, dim: 1);                                // (B, k) each
            var lse = t.logsumexp(1, keepdim: true);                                   // (B, 1)
            var lseTop = values.logsumexp(1, keepdim: true);                           // (B, 1)
            var rest = lse + torch.log1p(-torch.exp(lseTop - lse).clamp(max: 1.0));   // log Σ_{j∉top-k} exp(z_j); −inf when the tail underflows
            var tail = torch.maximum(rest - Math.Log(entry.Shape[0] - k), lse - 80.0); // finite: e^-80 of the mass at worst
            return [.. EncodeValues(values, [k], encoding), indices.to(ScalarType.Int32).contiguous(), tail.contiguous()];
        }
        return EncodeValues(t, entry.Shape, encoding);
    }

    private static List<Tensor> EncodeValues(Tensor t, long[] shape, CacheEncoding encoding)
    {
        long b = t.shape[0];
        switch (encoding)
        {
            case CacheEncoding.Fp32: return [t.contiguous()];
            case CacheEncoding.Fp16: return [t.to(ScalarType.Float16).contiguous()];
            case CacheEncoding.Int8:
                var (rows, cols) = Rows(shape);
                var r = t.reshape(b, rows, cols);                                       // (B, R, K)
                var scale = r.abs().amax([2], keepdim: true) / 127.0;                  // (B, R, 1)
                scale = torch.where(scale > 0, scale, torch.ones_like(scale));
                var q = (r / scale).round().clamp(-127, 127).to(ScalarType.Int8);      // (B, R, K)
                return [scale.reshape(b, rows).contiguous(), q.contiguous()];
            default: throw new ArgumentOutOfRangeException(nameof(encoding), encoding, null);
        }
    }

    /// <summary>Float32 (B, ...shape) from gathered parts (B, ...part shape), in the order of <see cref="CacheEntry.Parts"/>.</summary>
    public static Tensor Decode(IReadOnlyList<Tensor> parts, CacheEntry entry, CacheEncoding encoding, int? topK)
    {
        long b = parts[0].shape[0];
        if (IsTopK(entry.Name, entry.Shape, topK))
        {
            int nValues = encoding == CacheEncoding.Int8 ? 2 : 1;
            var values = DecodeValues(parts.Take(nValues).ToList(), [topK!.Value], encoding, b); // (B, k)
            var indices = parts[nValues].to(ScalarType.Int64);                                    // (B, k)
            var tail = parts[nValues + 1];                                                        // (B, 1)
            return tail.expand(b, entry.Shape[0]).contiguous().scatter_(1, indices, values);      // (B, C)
        }
        return DecodeValues(parts, entry.Shape, encoding, b);
    }

    private static Tensor DecodeValues(IReadOnlyList<Tensor> parts, long[] shape, CacheEncoding encoding, long b)
    {
        long[] full = [b, .. shape];
        return encoding switch
        {
            CacheEncoding.Fp32 => parts[0].reshape(full),
            CacheEncoding.Fp16 => parts[0].to(ScalarType.Float32).reshape(full),
            CacheEncoding.Int8 => (parts[1].to(ScalarType.Float32) * parts[0].unsqueeze(-1)).reshape(full), // (B, R, K) · (B, R, 1)
            _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, null),
        };
    }
}
