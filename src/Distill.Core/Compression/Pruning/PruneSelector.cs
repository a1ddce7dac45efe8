using Distill.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Compression.Pruning;

/// <summary>
/// Chooses the weights a pruning (or quantization) stage acts on: the <c>weight</c> of every <c>Linear</c>,
/// <c>Conv1d</c> and <c>Conv2d</c> module whose path matches an <c>include</c> pattern and no <c>exclude</c> pattern.
/// Biases, embedding tables and norm parameters are never selected (their modules are not linear or convolutional);
/// <see cref="DefaultExclude"/> also leaves out patch/position embedding projections and the classifier, whose few
/// weights matter most for accuracy (Han et al. 2015 prune it less; Zhu &amp; Gupta 2017 do not prune it).
/// </summary>
public static class PruneSelector
{
    /// <summary>Patterns excluded when a recipe gives no <c>exclude</c>: embeddings and the classification head.</summary>
    public static IReadOnlyList<string> DefaultExclude { get; } = ["*embeddings*", "classifier", "*.classifier"];

    /// <summary>Patterns included when a recipe gives no <c>include</c>: every module.</summary>
    public static IReadOnlyList<string> DefaultInclude { get; } = ["*"];

    /// <summary>True for module types whose <c>weight</c> can be pruned and quantized.</summary>
    public static bool IsPrunableModule(nn.Module module) => module is Linear or Conv1d or Conv2d;

    /// <summary>The selected weights, in <c>named_modules()</c> order.</summary>
    public static IReadOnlyList<PrunableWeight> Select(DistillModel model, IReadOnlyList<string>? include, IReadOnlyList<string>? exclude)
    {
        var inc = (include ?? DefaultInclude).Select(p => new ModuleGlob(p)).ToList();
        var exc = (exclude ?? DefaultExclude).Select(p => new ModuleGlob(p)).ToList();
        var selected = new List<PrunableWeight>();
        foreach (var (path, module) in model.named_modules())
        {
            if (!IsPrunableModule(module) || !ModuleGlob.AnyMatch(inc, path) || ModuleGlob.AnyMatch(exc, path)) continue;
            var weight = module.named_parameters(recurse: false).FirstOrDefault(p => p.name == "weight").parameter;
            if (weight is null) continue;
            selected.Add(new PrunableWeight($"{path}.weight", path, weight));
        }
        return selected;
    }
}
