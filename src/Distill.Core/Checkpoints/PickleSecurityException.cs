namespace Distill.Checkpoints;

/// <summary>
/// The pickle in a PyTorch checkpoint asked for something a state dict never needs: an opcode outside the allowed set
/// (INST, OBJ, NEWOBJ, EXT*, ...) or a global outside the allow-list (for example <c>posix.system</c>, <c>builtins.eval</c>).
/// Python's <c>pickle.load</c> would have executed it; we refuse by name before anything could run. The message names the
/// file, the byte offset, and the opcode or the global.
/// </summary>
public sealed class PickleSecurityException(string message) : PyTorchCheckpointException(message);
