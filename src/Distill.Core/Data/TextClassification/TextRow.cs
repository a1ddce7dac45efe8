namespace Distill.Data.TextClassification;

/// <summary>One example of a text table: where it starts in the file, its text(s) and its label as written (null when the table has no label column).</summary>
public sealed record TextRow(int Line, string Text, string? Pair, string? Label);
