namespace Distill.Models.Design;

/// <summary>The runtime a designed student will be served by, which is what its candidates are timed in.</summary>
public enum DeploymentRuntime
{
    /// <summary>TorchSharp eager (libtorch), the runtime Distill trains in.</summary>
    Torchsharp,

    /// <summary>ONNX Runtime (CPU): each candidate is exported to an in-memory ONNX graph and timed in an inference session.</summary>
    Onnxruntime,
}
