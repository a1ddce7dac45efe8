using Distill.Models.Hf;
using Distill.Models;

namespace Distill.Hf;

/// <summary>What a HF folder named by a recipe's <c>pretrained:</c> holds, read without loading weights.</summary>
/// <param name="Folder">The folder (absolute).</param>
/// <param name="Family">Its family (from <c>model_type</c>).</param>
/// <param name="Config">The family's config record read from its config.json.</param>
/// <param name="Architecture">The registered architecture of <c>architectures[0]</c>; null when the list is empty (the
/// family's head class is then assumed).</param>
/// <param name="Weights">Where its weights are.</param>
public sealed record HfPretrainedInfo(string Folder, HfFamily Family, IModelConfig Config, HfArchitecture? Architecture, HfWeights Weights);
