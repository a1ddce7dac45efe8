namespace Distill.Runs;

/// <summary>
/// A run that had started writing stopped on a bad file (a checkpoint, data read lazily): a failure during the run
/// (exit code 1), not the "nothing written" invalid input of exit code 2. The message is the inner one, naming the file.
/// </summary>
public sealed class RunFailedException(InvalidInputException inner)
    : Exception($"{inner.Message} (found after the run had started: the run folder is kept.)", inner);
