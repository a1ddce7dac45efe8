using Distill.Models;
using Distill.Models.Vit;
using Distill.Models.Wav2Vec2;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Compression.Pruning;

/// <summary>
/// Chooses the weights a pruning (or quantization) stage acts on: the <c>weight</c> of every <c>Linear</c>,
/// <c>Conv1d</c> and <c>Conv2d</c> module whose path matches an <c>include</c> pattern and no <c>exclude</c> pattern.
/// Biases and norm parameters are never selected (their modules are not linear or convolutional);
/// <see cref="DefaultExclude"/> also leaves out patch/position embedding projections and the classifier, whose few
/// weights matter most for accuracy (Han et al. 2015 prune it less; Zhu &amp; Gupta 2017 do not prune it).
/// <para>
/// Embedding weights are opt-in (<see cref="EmbeddingParameter"/>): <c>nn.Embedding</c> tables (BERT's word, position
/// and token-type embeddings), ViT's position embeddings (held by the module <c>vit.embeddings</c>) and wav2vec2's
/// positional convolution (<c>weight_v</c> of <c>wav2vec2.encoder.pos_conv_embed.conv</c>). In a small transformer
/// they can be most of the parameters — 97 % of a 1-layer, 64-wide BERT is its 30,522-token table — so a compressed
/// model must compress them too. One is selected only when a pattern of the recipe's own <c>include</c> matches its
/// module path <i>and that pattern matches no Linear/Conv module</i> (<c>*word_embeddings</c>, <c>bert.embeddings.*</c>,
/// <c>vit.embeddings</c>, <c>*pos_conv_embed*</c>), so catch-alls such as <c>*</c> or <c>bert.*</c> never select one by
/// accident. The default exclude list does not apply to a weight named this way; a recipe's own <c>exclude</c> does.
/// A table's rows (dimension 0) are token vectors, so per-channel quantization gives each token its own scale and
/// N:M pruning keeps N of every M consecutive entries of a token's vector.
/// </para>
/// </summary>
public static class PruneSelector
{
    /// <summary>Patterns excluded when a recipe gives no <c>exclude</c>: embeddings and the classification head.</summary>
    public static IReadOnlyList<string> DefaultExclude { get; } = ["*embeddings*", "classifier", "*.classifier"];

    /// <summary>Patterns included when a recipe gives no <c>include</c>: every module.</summary>
    public static IReadOnlyList<string> DefaultInclude { get; } = ["*"];

    /// <summary>True for module types whose <c>weight</c> can be pruned and quantized.</summary>
    public static bool IsPrunableModule(nn.Module module) => module is Linear or Conv1d or Conv2d;

    /// <summary>The parameter of an embedding module that can be pruned and quantized on request, or null when
    /// <paramref name="module"/> is not one: an <c>nn.Embedding</c>'s <c>weight</c>, ViT's <c>position_embeddings</c>, the
    /// <c>weight_v</c> (direction) of wav2vec2's weight-normalised positional convolution — its magnitude <c>weight_g</c>
    /// stays float, and the effective kernel g·v/‖v‖ has zeros exactly where v has.</summary>
    public static string? EmbeddingParameter(nn.Module module) => module switch
    {
        Embedding => "weight",
        ViTEmbeddings => "position_embeddings",
        Wav2Vec2WeightNormConv1d => "weight_v",
        _ => null,
    };

    /// <summary>The selected weights, in <c>named_modules()</c> order.</summary>
    public static IReadOnlyList<PrunableWeight> Select(DistillModel model, IReadOnlyList<string>? include, IReadOnlyList<string>? exclude)
    {
        var inc = (include ?? DefaultInclude).Select(p => new ModuleGlob(p)).ToList();
        var exc = (exclude ?? DefaultExclude).Select(p => new ModuleGlob(p)).ToList();
        var modules = model.named_modules().ToList();
        var linearPaths = modules.Where(m => IsPrunableModule(m.module)).Select(m => m.name).ToList();
        // Patterns that name embedding weights: the recipe's own include patterns that match no Linear/Conv module.
        var embeddingPatterns = include is null ? [] : inc.Where(g => !linearPaths.Any(g.IsMatch)).ToList();
        var embeddingExclude = exclude is null ? [] : exc;
        var selected = new List<PrunableWeight>();
        foreach (var (path, module) in modules)
        {
            if (IsPrunableModule(module))
            {
                if (!ModuleGlob.AnyMatch(inc, path) || ModuleGlob.AnyMatch(exc, path)) continue;
                if (Parameter(module, "weight") is { } weight) selected.Add(new PrunableWeight($"{path}.weight", path, weight));
            }
            else if (EmbeddingParameter(module) is { } name && ModuleGlob.AnyMatch(embeddingPatterns, path) && !ModuleGlob.AnyMatch(embeddingExclude, path))
            {
                if (Parameter(module, name) is { } weight) selected.Add(new PrunableWeight($"{path}.{name}", path, weight, IsEmbedding: true));
            }
        }
        return selected;
    }

    private static Parameter? Parameter(nn.Module module, string name) =>
        module.named_parameters(recurse: false).FirstOrDefault(p => p.name == name).parameter;
}
