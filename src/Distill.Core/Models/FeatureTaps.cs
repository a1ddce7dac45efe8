using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// Captures the outputs of named submodules through forward hooks (which fire only when the model calls its
/// submodules with <c>.call</c>). Dispose removes the hooks.
/// </summary>
public sealed class FeatureTaps : IDisposable
{
    private readonly Dictionary<string, Tensor> _features = new(StringComparer.Ordinal);
    private readonly List<Action> _removers = [];

    private FeatureTaps() { }

    /// <summary>Outputs captured by the last forward pass, by module path.</summary>
    public IReadOnlyDictionary<string, Tensor> Features => _features;

    /// <summary>Hooks every path in <paramref name="paths"/>; unknown paths and modules with non-tensor outputs are errors.</summary>
    public static FeatureTaps Attach(nn.Module model, IEnumerable<string> paths)
    {
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        var taps = new FeatureTaps();
        foreach (string path in paths.Distinct())
        {
            if (!modules.TryGetValue(path, out var module))
                throw new ArgumentException($"'{model.GetName()}' has no module '{path}'.");
            if (module is not nn.Module<Tensor, Tensor> tensorModule)
                throw new ArgumentException($"Module '{path}' ({module.GetType().Name}) does not map a tensor to a tensor, so its output cannot be tapped; tap one of its submodules.");
            string key = path;
            var remover = tensorModule.register_forward_hook((_, _, output) =>
            {
                taps._features[key] = output;
                return output;
            });
            taps._removers.Add(remover.remove);
        }
        return taps;
    }

    public void Dispose()
    {
        foreach (var remove in _removers) remove();
        _removers.Clear();
        _features.Clear();
    }
}
