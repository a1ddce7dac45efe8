namespace Distill.Data;

/// <summary>
/// The values of a recipe's data section as datasets read them: plain values, so that the datasets (layer 2) do not
/// depend on the recipe records above them. The recipe's <c>DataSpec</c> implements it; paths are absolute.
/// </summary>
public interface IDataSettings
{
    /// <summary>The dataset kind (<c>data.dataset</c>).</summary>
    string Dataset { get; }

    /// <summary>The folder holding the data (absolute).</summary>
    string Path { get; }

    string TrainSplit { get; }

    /// <summary>The evaluated splits, in the recipe's order; the first is the one <c>metrics</c> and the best checkpoint use.</summary>
    IReadOnlyList<string> EvalSplitNames { get; }

    /// <summary>Every split with the recipe key that names it (<c>train_split</c>, <c>eval_split</c> or <c>eval_splits[i]</c>), training first.</summary>
    IReadOnlyList<(string Key, string Split)> SplitKeys { get; }

    /// <summary>Batches built ahead of training and evaluation on a background thread (<see cref="BatchPrefetcher"/>); 0 = off.</summary>
    int Prefetch { get; }

    /// <summary>Text: the tokenizer folder (absolute), or null.</summary>
    string? Tokenizer { get; }

    /// <summary>Text: tokens per example including [CLS]/[SEP].</summary>
    int MaxLength { get; }

    /// <summary>Text tables: the column (CSV/TSV header name or JSON key) holding the text.</summary>
    string? TextColumn { get; }

    /// <summary>Text tables: the column of the second text of a pair, or null.</summary>
    string? TextPairColumn { get; }

    /// <summary>Text tables: header names (JSON keys) read as other names, the same for every split (<c>{content: sentence}</c>); empty = none.</summary>
    IReadOnlyDictionary<string, string> RenameColumns => new Dictionary<string, string>();

    /// <summary>Text tables: the clean-up applied to every text before tokenization.</summary>
    Text.TextUnescape TextUnescape => Text.TextUnescape.None;

    /// <summary>Text tables and audio metadata: the column holding the label.</summary>
    string LabelColumn { get; }

    /// <summary>The class names in label order, or null to collect them from the training split.</summary>
    IReadOnlyList<string>? Labels { get; }

    /// <summary>Images: per-channel mean subtracted after scaling to [0, 1]; null = no normalisation.</summary>
    IReadOnlyList<double>? Mean { get; }

    /// <summary>Images: per-channel std (with <see cref="Mean"/>).</summary>
    IReadOnlyList<double>? Std { get; }

    /// <summary>Image folders: (height, width) every image is resized to, or null to keep the images' common size.</summary>
    (int Height, int Width)? ImageSize { get; }

    /// <summary>Image folders: 3 (RGB) or 1 (grayscale).</summary>
    int Channels { get; }

    /// <summary>Audio folders: the rate clips are resampled to (the model's).</summary>
    int SamplingRate { get; }

    /// <summary>Transcript data: an HF <c>vocab.json</c> (or the folder holding it) to encode transcripts with; null = built from the training transcripts.</summary>
    string? Vocab => null;

    /// <summary>Image and audio folders: an HF <c>preprocessor_config.json</c> (or the folder holding it) whose processor replaces the keys above; null = none.</summary>
    string? Processor { get; }
}
