namespace Distill.Recipes;

/// <summary>Builds and splits recipe key paths such as <c>stages[2].train.lr</c>.</summary>
internal static class KeyPaths
{
    public static string Child(string parent, string key) => parent.Length == 0 ? key : $"{parent}.{key}";

    public static string Index(string parent, int index) => $"{parent}[{index}]";

    /// <summary>Splits <c>a.b[0].c</c> into <c>a</c>, <c>b</c>, <c>0</c> (as int), <c>c</c>.</summary>
    public static IReadOnlyList<object> Split(string path)
    {
        var segments = new List<object>();
        foreach (var part in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            int bracket = part.IndexOf('[');
            string name = bracket < 0 ? part : part[..bracket];
            if (name.Length > 0) segments.Add(name);
            while (bracket >= 0)
            {
                int close = part.IndexOf(']', bracket);
                if (close < 0) break;
                if (int.TryParse(part.AsSpan(bracket + 1, close - bracket - 1), out int i)) segments.Add(i);
                bracket = part.IndexOf('[', close);
            }
        }
        return segments;
    }

    /// <summary>Joins segments back into the display form (<c>stages[1].name</c>).</summary>
    public static string Join(IEnumerable<object> segments)
    {
        string path = "";
        foreach (var s in segments) path = s is int i ? Index(path, i) : Child(path, (string)s);
        return path;
    }
}
