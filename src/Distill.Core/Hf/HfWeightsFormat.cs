namespace Distill.Hf;

/// <summary>How a HF folder stores its weights, in the order <see cref="HfFolder.LocateWeights"/> prefers them.</summary>
public enum HfWeightsFormat
{
    /// <summary><c>model.safetensors</c>.</summary>
    SafeTensors,

    /// <summary><c>model.safetensors.index.json</c> plus its shards.</summary>
    ShardedSafeTensors,

    /// <summary><c>pytorch_model.bin</c> (torch.save zip + pickle), read with the restricted unpickler.</summary>
    PyTorchBin,
}
