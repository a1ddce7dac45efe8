using Distill.Models;
using Distill.Text;

namespace Distill.Data.Transfer;

/// <summary>Builds a distill stage's training set with its transfer set (<see cref="TransferSpec"/>) from plain values.</summary>
public static class TransferSetup
{
    /// <summary>
    /// <paramref name="fullTrain"/> is the whole training split (before <c>train_limit</c>); augmentation reads the
    /// vocabulary from <paramref name="tokenizerFolder"/> and the teacher's word-embedding table (the parameter whose name
    /// ends in <c>word_embeddings.weight</c>, as in every HF text encoder).
    /// </summary>
    public static TransferDataset Build(IDataset fullTrain, int? trainLimit, long seed, TransferSpec spec, DistillModel teacher, string? tokenizerFolder)
    {
        WordNeighbourAugmenter? augmenter = null;
        if (spec.Augment is { } augment)
        {
            if (tokenizerFolder is null)
                throw new InvalidInputException("distill.transfer.augment",
                    "distill.transfer.augment replaces words of the text, so it needs data.tokenizer (the vocabulary the teacher was trained with).");
            var table = teacher.named_parameters().Where(p => p.name.EndsWith("word_embeddings.weight", StringComparison.Ordinal)).ToList();
            if (table.Count != 1)
                throw new InvalidInputException("distill.transfer.augment",
                    $"distill.transfer.augment finds replacement words in the teacher's word-embedding table, but the teacher ({teacher.Family}) has " +
                    $"{(table.Count == 0 ? "none" : $"{table.Count} ({string.Join(", ", table.Select(p => p.name))})")}; augmentation is for text teachers (bert).");
            var tokenizer = BertTextTokenizer.FromFolder(tokenizerFolder);
            var vocab = Enumerable.Range(0, tokenizer.VocabSize).Select(tokenizer.IdToToken).ToList();
            if (table[0].parameter.shape[0] != vocab.Count)
                throw new InvalidInputException(tokenizerFolder,
                    $"distill.transfer.augment: {tokenizerFolder} has {vocab.Count} tokens but the teacher's word-embedding table has " +
                    $"{table[0].parameter.shape[0]} rows; point data.tokenizer at the teacher's own vocabulary.");
            augmenter = new WordNeighbourAugmenter(vocab, table[0].parameter, augment.Neighbours);
        }
        return TransferDataset.Create(fullTrain, trainLimit, seed, spec.Unlabelled, spec.Augment, augmenter);
    }
}
