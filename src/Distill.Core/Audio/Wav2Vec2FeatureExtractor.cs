using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Audio;

/// <summary>
/// HF's <c>Wav2Vec2FeatureExtractor</c> (transformers 4.40), configured from <c>preprocessor_config.json</c>:
/// clips of raw mono audio at <c>sampling_rate</c> are padded to the longest clip (on <c>padding_side</c>, with
/// <c>padding_value</c>) and, with <c>do_normalize</c>, each row becomes (x − μ)/√(σ² + 1e-7), μ and σ² (population
/// variance) taken over the row's real samples when an attention mask is returned and over the whole padded row
/// otherwise (HF's behaviour for "group"-norm checkpoints, which return no mask); real-sample normalisation then resets
/// the padding to <c>padding_value</c>. Statistics are computed in float64 and the result rounded to float32 (HF works in
/// float32, so values can differ by about one float32 ulp). With left padding the statistics cover the real samples
/// (HF 4.40 would take the first <c>length</c> entries of the row, i.e. padding, which is a bug there).
/// Audio at another rate must be resampled first (<see cref="Resampler"/>); a mismatched rate is an error, as in HF.
/// </summary>
public sealed class Wav2Vec2FeatureExtractor
{
    /// <summary>HF's variance floor in the normalisation.</summary>
    public const double VarianceEpsilon = 1e-7;

    [JsonPropertyName("feature_size")] public int FeatureSize { get; init; } = 1;

    [JsonPropertyName("sampling_rate")] public int SamplingRate { get; init; } = 16000;

    [JsonPropertyName("padding_value")] public double PaddingValue { get; init; }

    [JsonPropertyName("do_normalize")] public bool DoNormalize { get; init; } = true;

    [JsonPropertyName("return_attention_mask")] public bool ReturnAttentionMask { get; init; }

    /// <summary>"right" (HF default) or "left".</summary>
    [JsonPropertyName("padding_side")] public string PaddingSide { get; init; } = "right";

    [JsonPropertyName("feature_extractor_type")] public string? FeatureExtractorType { get; init; } = "Wav2Vec2FeatureExtractor";

    /// <summary>Informational (HF writes it when saved through a processor).</summary>
    [JsonPropertyName("processor_class")] public string? ProcessorClass { get; init; }

    /// <summary>Problems with the settings, each as (key, message).</summary>
    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (FeatureSize != 1) yield return ("feature_size", $"{FeatureSize}: wav2vec2 takes raw mono audio, feature_size must be 1");
        if (SamplingRate < 1) yield return ("sampling_rate", "must be a positive rate in Hz");
        if (PaddingSide is not ("right" or "left")) yield return ("padding_side", $"'{PaddingSide}' is not \"right\" or \"left\"");
        if (FeatureExtractorType is not (null or "Wav2Vec2FeatureExtractor"))
            yield return ("feature_extractor_type", $"'{FeatureExtractorType}' is not a Wav2Vec2FeatureExtractor");
        if (!double.IsFinite(PaddingValue)) yield return ("padding_value", "must be a finite number");
    }

    /// <summary>Reads <c>preprocessor_config.json</c>; unknown keys and invalid values throw <see cref="InvalidDataException"/> naming the file.</summary>
    public static Wav2Vec2FeatureExtractor FromJsonFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: preprocessor_config.json not found.", path);
        string text = File.ReadAllText(path);
        Wav2Vec2FeatureExtractor? fe;
        try
        {
            using (var doc = JsonDocument.Parse(text))
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: not a JSON object.");
                var known = typeof(Wav2Vec2FeatureExtractor).GetProperties()
                    .Select(p => p.GetCustomAttributes(typeof(JsonPropertyNameAttribute), false).OfType<JsonPropertyNameAttribute>().FirstOrDefault()?.Name)
                    .Where(n => n is not null).ToHashSet();
                foreach (var prop in doc.RootElement.EnumerateObject())
                    if (!known.Contains(prop.Name))
                        throw new InvalidDataException($"{path}: unknown key '{prop.Name}' for a Wav2Vec2FeatureExtractor (known: {string.Join(", ", known.Order())}).");
            }
            fe = JsonSerializer.Deserialize<Wav2Vec2FeatureExtractor>(text);
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: does not bind to Wav2Vec2FeatureExtractor at {e.Path ?? "?"} ({e.Message})", e); }
        if (fe is null) throw new InvalidDataException($"{path}: the JSON is null.");
        var problems = fe.Validate().ToList();
        if (problems.Count > 0) throw new InvalidDataException($"{path}: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}")));
        return fe;
    }

    /// <summary>
    /// Pads and normalises a batch of mono clips sampled at <paramref name="samplingRate"/> Hz (which must equal
    /// <see cref="SamplingRate"/>). <paramref name="padTo"/> pads to at least that many samples (HF's max_length padding).
    /// </summary>
    public Wav2Vec2Features Extract(IReadOnlyList<float[]> clips, int samplingRate, int? padTo = null)
    {
        var problems = Validate().ToList();
        if (problems.Count > 0) throw new InvalidOperationException("Wav2Vec2FeatureExtractor: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}")));
        if (samplingRate != SamplingRate)
            throw new ArgumentException($"Wav2Vec2FeatureExtractor: the audio is at {samplingRate} Hz but the model expects {SamplingRate} Hz; resample it first (Distill.Audio.Resampler).");
        if (clips.Count == 0) throw new ArgumentException("Wav2Vec2FeatureExtractor: the batch is empty.");
        int width = Math.Max(clips.Max(c => c.Length), padTo ?? 0);
        int batch = clips.Count;
        var values = new float[batch * width];
        var mask = new int[batch * width];
        var lengths = new int[batch];
        bool left = PaddingSide == "left";
        for (int b = 0; b < batch; b++)
        {
            var clip = clips[b];
            if (clip.Length == 0) throw new ArgumentException($"Wav2Vec2FeatureExtractor: clip {b} of the batch is empty.");
            lengths[b] = clip.Length;
            int offset = left ? width - clip.Length : 0;
            var row = values.AsSpan(b * width, width);
            row.Fill((float)PaddingValue);
            clip.CopyTo(row[offset..]);
            mask.AsSpan(b * width + offset, clip.Length).Fill(1);
            if (!DoNormalize) continue;
            // Statistics over the real samples with a mask, else over the padded row (HF).
            int start = ReturnAttentionMask ? offset : 0, count = ReturnAttentionMask ? clip.Length : width;
            double mean = 0;
            for (int i = 0; i < count; i++) mean += row[start + i];
            mean /= count;
            double variance = 0;
            for (int i = 0; i < count; i++) { double d = row[start + i] - mean; variance += d * d; }
            variance /= count;
            double std = Math.Sqrt(variance + VarianceEpsilon);
            for (int i = 0; i < width; i++) row[i] = (float)((row[i] - mean) / std);
            if (ReturnAttentionMask)
            {
                row[..offset].Fill((float)PaddingValue);
                row[(offset + clip.Length)..].Fill((float)PaddingValue);
            }
        }
        var inputValues = torch.tensor(values, new long[] { batch, width });               // (B, L)
        Tensor? attention = ReturnAttentionMask ? torch.tensor(mask, new long[] { batch, width }) : null; // (B, L) int32
        return new Wav2Vec2Features(inputValues, attention, lengths);
    }
}
