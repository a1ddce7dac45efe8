namespace Distill.Models.Init;

/// <summary>The sizes of a transformer that teacher initialisation reads and changes.</summary>
/// <param name="Layers">Encoder layers.</param>
/// <param name="HiddenSize">Model width D.</param>
/// <param name="Heads">Attention heads per layer (head dim = D / heads).</param>
/// <param name="IntermediateSize">Feed-forward width.</param>
public sealed record StudentShape(int Layers, int HiddenSize, int Heads, int IntermediateSize)
{
    /// <summary>D / heads.</summary>
    public int HeadDim => Heads > 0 ? HiddenSize / Heads : 0;
}
