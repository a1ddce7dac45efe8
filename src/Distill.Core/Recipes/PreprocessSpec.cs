using Distill.Schema;

namespace Distill.Recipes;

/// <summary>Pre-processing applied when batches are built.</summary>
public sealed record PreprocessSpec
{
    /// <summary>Images: subtract this mean and divide by <c>std</c> after scaling pixels to [0, 1]. Null = no normalisation.</summary>
    public List<double>? Mean { get; init; }

    public List<double>? Std { get; init; }

    /// <summary><c>image_folder</c>: resize every image to <c>[height, width]</c> (or <c>[side]</c>) with Pillow's bilinear filter; null = keep the size, which must then be the same for every image.</summary>
    public List<int>? Size { get; init; }

    /// <summary><c>image_folder</c>: 3 decodes images as RGB, 1 as grayscale.</summary>
    [Bounds(1, 3)] public int Channels { get; init; } = 3;

    /// <summary><c>audio_folder</c>: clips are mixed down to mono and resampled to this rate (wav2vec2: 16 kHz).</summary>
    [Bounds(1000, 384000)] public int SamplingRate { get; init; } = 16000;

    /// <summary><c>image_folder</c> / <c>audio_folder</c>: an HF <c>preprocessor_config.json</c> (or the model folder holding it) to pre-process with instead of the keys above.</summary>
    [ExistingPath(FileOrFolder = true)] public string? Processor { get; init; }
}
