using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// Captures the outputs of named submodules through forward hooks (which fire only when the model calls its
/// submodules with <c>.call</c>). Any module whose forward returns a tensor can be tapped, whatever its inputs
/// (one to three arguments). Dispose removes the hooks.
/// </summary>
public sealed class FeatureTaps : IDisposable
{
    private static readonly MethodInfo[] HookHelpers =
    [
        typeof(FeatureTaps).GetMethod(nameof(HookOne), BindingFlags.NonPublic | BindingFlags.Instance)!,
        typeof(FeatureTaps).GetMethod(nameof(HookTwo), BindingFlags.NonPublic | BindingFlags.Instance)!,
        typeof(FeatureTaps).GetMethod(nameof(HookThree), BindingFlags.NonPublic | BindingFlags.Instance)!,
    ];

    private readonly Dictionary<string, Tensor> _features = new(StringComparer.Ordinal);
    private readonly List<Action> _removers = [];

    private FeatureTaps() { }

    /// <summary>Outputs captured by the last forward pass, by module path.</summary>
    public IReadOnlyDictionary<string, Tensor> Features => _features;

    /// <summary>Hooks every path in <paramref name="paths"/>; unknown paths and modules that do not return a tensor are errors.</summary>
    public static FeatureTaps Attach(nn.Module model, IEnumerable<string> paths)
    {
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        var taps = new FeatureTaps();
        foreach (string path in paths.Distinct())
        {
            if (!modules.TryGetValue(path, out var module))
                throw new ArgumentException($"'{model.GetName()}' has no module '{path}'.");
            if (!taps.TryHook(module, path))
                throw new ArgumentException($"Module '{path}' ({module.GetType().Name}) does not return a tensor, so its output cannot be tapped; tap one of its submodules.");
        }
        return taps;
    }

    /// <summary>Hooks every module of <paramref name="model"/> that returns a tensor (for shape probing).</summary>
    public static FeatureTaps AttachAll(nn.Module model)
    {
        var taps = new FeatureTaps();
        foreach (var (name, module) in model.named_modules()) taps.TryHook(module, name);
        return taps;
    }

    private bool TryHook(nn.Module module, string name)
    {
        for (var t = module.GetType(); t is not null; t = t.BaseType)
        {
            if (!t.IsGenericType || t.GenericTypeArguments[^1] != typeof(Tensor)) continue;
            var def = t.GetGenericTypeDefinition();
            int arity = def == typeof(nn.Module<,>) ? 1 : def == typeof(nn.Module<,,>) ? 2 : def == typeof(nn.Module<,,,>) ? 3 : 0;
            if (arity == 0) continue;
            _removers.Add((Action)HookHelpers[arity - 1].MakeGenericMethod(t.GenericTypeArguments[..^1]).Invoke(this, [module, name])!);
            return true;
        }
        return false;
    }

    private Action HookOne<T>(nn.Module<T, Tensor> module, string name)
    {
        var handle = module.register_forward_hook((_, _, y) => { _features[name] = y; return y; });
        return handle.remove;
    }

    private Action HookTwo<T1, T2>(nn.Module<T1, T2, Tensor> module, string name)
    {
        var handle = module.register_forward_hook((_, _, _, y) => { _features[name] = y; return y; });
        return handle.remove;
    }

    private Action HookThree<T1, T2, T3>(nn.Module<T1, T2, T3, Tensor> module, string name)
    {
        var handle = module.register_forward_hook((_, _, _, _, y) => { _features[name] = y; return y; });
        return handle.remove;
    }

    public void Dispose()
    {
        foreach (var remove in _removers) remove();
        _removers.Clear();
        _features.Clear();
    }
}
