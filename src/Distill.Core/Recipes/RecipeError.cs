namespace Distill.Recipes;

/// <summary>
/// One problem with a recipe, placed where the user can fix it. <see cref="ToString"/> gives the compiler-style line
/// <c>file:line:col: key.path: message</c>, which editors and terminals turn into a link. Errors that come from a
/// <c>--set key.path=value</c> override carry the override text as <see cref="File"/> and no line or column.
/// </summary>
/// <param name="File">The recipe file as given on the command line, or <c>--set key.path=value</c> for an override.</param>
/// <param name="Line">1-based line in <paramref name="File"/>; 0 when the error has no line (overrides, unreadable file).</param>
/// <param name="Column">1-based column; 0 when <paramref name="Line"/> is 0.</param>
/// <param name="KeyPath">Where in the recipe: <c>train.lr</c>, <c>stages[2].kind</c>, <c>distill.terms[1].student</c>; empty for the whole file.</param>
/// <param name="Message">What is wrong and what is expected, e.g. <c>expected a number &gt; 0 and &lt;= 10, got 'abc'</c>.</param>
public sealed record RecipeError(string File, int Line, int Column, string KeyPath, string Message)
{
    /// <summary><c>file:line:col: key.path: message</c>; the line/column and key path parts are left out when absent.</summary>
    public override string ToString()
    {
        string where = Line > 0 ? $"{File}:{Line}:{Column}" : File;
        return KeyPath.Length > 0 ? $"{where}: {KeyPath}: {Message}" : $"{where}: {Message}";
    }
}
