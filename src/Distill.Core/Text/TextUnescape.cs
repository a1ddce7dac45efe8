namespace Distill.Text;

/// <summary>
/// <c>data.text_unescape</c>: a clean-up applied to every text as a split is read, before tokenization. <c>ptb</c> maps
/// the Penn Treebank bracket escapes back to brackets (<c>-lrb-</c> → <c>(</c>, <c>-rrb-</c> → <c>)</c>, and the
/// <c>-lsb-/-rsb-</c>, <c>-lcb-/-rcb-</c> pairs; upper-case <c>-LRB-</c> forms too), as corpora tokenized by PTB tools
/// (SST, GLUE's dev files, CoNLL) write them; a tokenizer would otherwise split <c>-lrb-</c> into three word pieces.
/// </summary>
public enum TextUnescape
{
    None,
    Ptb,
}
