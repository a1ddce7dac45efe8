using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Caching;

/// <summary>The teacher's outputs for one batch as the loss terms read them: logits, kept hidden states and attention
/// maps (<see cref="ModelOutput"/>), and tapped module outputs by path.</summary>
public sealed record CachedTeacherOutput(ModelOutput Output, IReadOnlyDictionary<string, Tensor> Features);
