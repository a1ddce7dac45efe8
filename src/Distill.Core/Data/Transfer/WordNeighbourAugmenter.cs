using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Data.Transfer;

/// <summary>
/// Replaces whole words of a WordPiece token sequence by their nearest neighbours in a word-embedding table (cosine
/// similarity), for <see cref="AugmentSpec"/>. A whole word is a vocabulary entry that is neither a special token
/// (<c>[CLS]</c>, <c>[PAD]</c>, <c>[unused7]</c>, ...) nor a continuation piece (<c>##ing</c>) and is not followed by one;
/// candidates are whole-word entries too, so a replacement never splits or merges words. Neighbours are computed on first
/// use per word and kept.
/// </summary>
public sealed class WordNeighbourAugmenter
{
    private readonly Tensor _unit;           // (M, D) unit rows of the replaceable entries
    private readonly int[] _rowOf;           // vocab id → row of _unit, or −1
    private readonly int[] _idOf;            // row → vocab id
    private readonly bool[] _continuation;   // vocab id → is a "##" piece
    private readonly int _neighbours;
    private readonly Dictionary<int, int[]> _cache = [];
    private readonly Lock _lock = new();

    /// <param name="vocab">The tokenizer's vocabulary in id order (vocab.txt lines).</param>
    /// <param name="wordEmbeddings">The teacher's word-embedding table (V, D), V = vocabulary size.</param>
    /// <param name="neighbours">Candidates per word.</param>
    public WordNeighbourAugmenter(IReadOnlyList<string> vocab, Tensor wordEmbeddings, int neighbours)
    {
        if (wordEmbeddings.dim() != 2 || wordEmbeddings.shape[0] != vocab.Count)
            throw new ArgumentException(
                $"The word-embedding table is {string.Join("×", wordEmbeddings.shape)} but the vocabulary has {vocab.Count} entries; " +
                "the tokenizer and the teacher must share one vocabulary.", nameof(wordEmbeddings));
        _neighbours = neighbours;
        _continuation = [.. vocab.Select(t => t.StartsWith("##", StringComparison.Ordinal))];
        _rowOf = new int[vocab.Count];
        var ids = new List<int>();
        for (int i = 0; i < vocab.Count; i++)
        {
            bool special = vocab[i].Length >= 2 && vocab[i][0] == '[' && vocab[i][^1] == ']';
            _rowOf[i] = special || _continuation[i] || vocab[i].Length == 0 ? -1 : ids.Count;
            if (_rowOf[i] >= 0) ids.Add(i);
        }
        if (ids.Count <= neighbours)
            throw new ArgumentException($"The vocabulary has {ids.Count} whole-word entries, not more than neighbours = {neighbours}.", nameof(neighbours));
        _idOf = [.. ids];
        using var scope = torch.NewDisposeScope();
        var rows = wordEmbeddings.detach().to(ScalarType.Float32).cpu().index_select(0, torch.tensor(_idOf));  // (M, D)
        _unit = nn.functional.normalize(rows, p: 2, dim: 1).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The nearest whole words of vocabulary entry <paramref name="id"/>, most similar first; empty when it is not a whole-word entry.</summary>
    public IReadOnlyList<int> NeighboursOf(int id)
    {
        if (id < 0 || id >= _rowOf.Length || _rowOf[id] < 0) return [];
        lock (_lock)
        {
            if (_cache.TryGetValue(id, out var known)) return known;
            using var scope = torch.NewDisposeScope();
            var similarity = _unit.matmul(_unit[_rowOf[id]]);                 // (M)
            similarity[_rowOf[id]] = float.NegativeInfinity;                 // never the word itself
            var top = similarity.topk(_neighbours).indexes.data<long>().ToArray();
            var result = top.Select(r => _idOf[r]).ToArray();
            _cache[id] = result;
            return result;
        }
    }

    /// <summary>
    /// A variant of <paramref name="ids"/>'s first <paramref name="length"/> tokens: each whole word replaced with
    /// probability <paramref name="probability"/> by a uniformly drawn neighbour; other positions unchanged.
    /// </summary>
    public long[] Augment(ReadOnlySpan<long> ids, int length, double probability, Random rng)
    {
        var output = ids.ToArray();
        for (int j = 0; j < length; j++)
        {
            long id = ids[j];
            bool wholeWord = id >= 0 && id < _rowOf.Length && _rowOf[id] >= 0
                && (j + 1 >= length || ids[j + 1] < 0 || ids[j + 1] >= _continuation.Length || !_continuation[ids[j + 1]]);
            if (!wholeWord || rng.NextDouble() >= probability) continue;
            var candidates = NeighboursOf((int)id);
            output[j] = candidates[rng.Next(candidates.Count)];
        }
        return output;
    }
}
