using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// Output records of HuggingFace families implement this to expose every tensor by HF's output name:
/// <c>logits</c>, <c>loss</c>, <c>last_hidden_state</c>, <c>pooler_output</c>, <c>extract_features</c>,
/// <c>hidden_states.N</c>, <c>attentions.N</c>. <c>distill forward</c> writes exactly these.
/// </summary>
public interface INamedOutputs
{
    IEnumerable<KeyValuePair<string, Tensor>> NamedTensors();
}
