namespace Distill.Design.Plot;

/// <summary>Which point of a text run its x coordinate names (SVG's <c>text-anchor</c>).</summary>
public enum TextAnchor
{
    Start,
    Middle,
    End,
}
