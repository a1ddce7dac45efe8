namespace Distill.Schema;

/// <summary>
/// A spec that names module paths of the teacher or student (hint terms, pruning patterns...). Validation checks every
/// path against the model's <c>named_modules()</c> (built on CPU and dropped).
/// </summary>
public interface IModulePathSpec
{
    /// <summary>Each path with the spec key that holds it and whether it names a student (true) or teacher (false) module.</summary>
    IEnumerable<(string Key, string Path, bool Student)> ModulePaths();
}
