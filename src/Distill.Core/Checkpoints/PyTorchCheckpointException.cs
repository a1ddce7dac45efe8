namespace Distill.Checkpoints;

/// <summary>
/// A <c>pytorch_model.bin</c> (torch.save zip + pickle) cannot be read: not a zip of the expected layout, a truncated or
/// inconsistent pickle, or a tensor whose offset/size/stride reaches outside its storage file. The message names the file,
/// the place in it (zip entry, pickle byte offset, tensor key) and what is wrong. <see cref="PickleSecurityException"/>
/// derives from it, so one catch handles both.
/// </summary>
public class PyTorchCheckpointException(string message) : Exception(message);
