using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Distill.Recipes;

/// <summary>
/// A parser wrapper that drops the second and later occurrences of a key in a mapping (key and value) and reports each
/// through <paramref name="onDuplicate"/>. YamlDotNet's representation model throws at the first duplicate, which
/// would hide every other error; with this filter loading goes on and the first occurrence is the one bound.
/// </summary>
/// <param name="onDuplicate">Called with the duplicate key, where the first occurrence starts, and the key's path.</param>
internal sealed class DuplicateKeyFilter(IParser inner, Action<Scalar, Mark, string> onDuplicate) : IParser
{
    private sealed class Frame(bool mapping, string path)
    {
        public bool Mapping { get; } = mapping;
        public string Path { get; } = path;
        public bool ExpectingKey { get; set; } = true;
        public string CurrentKey { get; set; } = "?";
        public int Count { get; set; }
        public Dictionary<string, Mark> Keys { get; } = new(StringComparer.Ordinal);
    }

    private readonly Stack<Frame> _frames = new();

    public ParsingEvent? Current { get; private set; }

    /// <summary>End of the last event read: where a parser failure without a position happened.</summary>
    public Mark LastEnd { get; private set; } = Mark.Empty;

    public bool MoveNext()
    {
        while (Read() is { } ev)
        {
            if (_frames.TryPeek(out var frame) && frame.Mapping && frame.ExpectingKey && ev is Scalar key)
            {
                string text = key.Value;
                if (frame.Keys.TryGetValue(text, out var first))
                {
                    onDuplicate(key, first, KeyPaths.Child(frame.Path, text));
                    SkipNode(); // the duplicate's value
                    continue;
                }
                frame.Keys[text] = key.Start;
            }
            Track(ev);
            Current = ev;
            return true;
        }
        Current = null;
        return false;
    }

    private ParsingEvent? Read()
    {
        if (!inner.MoveNext()) return null;
        var ev = inner.Current!;
        LastEnd = ev.End;
        return ev;
    }

    private void Track(ParsingEvent ev)
    {
        switch (ev)
        {
            case DocumentStart:
                _frames.Clear();
                break;
            case MappingStart:
                _frames.Push(new Frame(true, NodePathAndFlip(ev)));
                break;
            case SequenceStart:
                _frames.Push(new Frame(false, NodePathAndFlip(ev)));
                break;
            case MappingEnd or SequenceEnd:
                _frames.TryPop(out _);
                break;
            case Scalar or AnchorAlias:
                NodePathAndFlip(ev);
                break;
        }
    }

    /// <summary>The key path of the node starting now, and the parent's bookkeeping advanced past it.</summary>
    private string NodePathAndFlip(ParsingEvent ev)
    {
        if (!_frames.TryPeek(out var frame)) return "";
        if (!frame.Mapping) return KeyPaths.Index(frame.Path, frame.Count++);
        string path = frame.ExpectingKey ? frame.Path : KeyPaths.Child(frame.Path, frame.CurrentKey);
        if (frame.ExpectingKey) frame.CurrentKey = ev is Scalar s ? s.Value : "?";
        frame.ExpectingKey = !frame.ExpectingKey;
        return path;
    }

    private void SkipNode()
    {
        int depth = 0;
        while (Read() is { } ev)
        {
            if (ev is MappingStart or SequenceStart) depth++;
            else if (ev is MappingEnd or SequenceEnd) depth--;
            if (depth <= 0) return;
        }
    }
}
