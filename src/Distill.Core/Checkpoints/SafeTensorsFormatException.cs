namespace Distill.Checkpoints;

/// <summary>A safetensors file is malformed. The message names the file and what is wrong.</summary>
public sealed class SafeTensorsFormatException(string message) : Exception(message);
