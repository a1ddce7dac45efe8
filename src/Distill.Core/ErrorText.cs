namespace Distill;

/// <summary>Exception text for people: libtorch errors carry a multi-line C++ backtrace after the message, which says
/// nothing to a user and buries the cause.</summary>
public static class ErrorText
{
    /// <summary>The message up to libtorch's "Exception raised from" backtrace (the whole message otherwise), trimmed.</summary>
    public static string Of(Exception e)
    {
        string m = e.Message;
        int cut = m.IndexOf("Exception raised from", StringComparison.Ordinal);
        return (cut > 0 ? m[..cut] : m).Trim();
    }
}
