namespace Distill.Hf;

/// <summary>
/// A HuggingFace model folder cannot be used (or written): config.json absent or invalid, no weights file, an
/// architecture nobody registered, an export target that is not empty. The message names the folder or file, what was
/// expected, and the fix.
/// </summary>
public sealed class HfFolderException(string message) : Exception(message);
