using Distill.Models.Hf;
using Distill.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Hf;

/// <summary>A model built and loaded from a HF folder, with what was read and the loader's report.</summary>
public sealed record HfLoadedModel(nn.Module Model, HfArchitecture Architecture, HfConfigInfo Config, HfWeights Weights, LoadReport Report);
