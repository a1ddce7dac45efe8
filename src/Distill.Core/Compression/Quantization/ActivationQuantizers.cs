using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Quantization;

/// <summary>
/// Simulated integer activations: a forward pre-hook on each chosen Linear/Conv module replaces its input x by its
/// fake-quantized value on an asymmetric per-tensor grid (<see cref="ActivationRange"/>), with the straight-through
/// estimator x + (q(x) − x).detach() so gradients pass unchanged. Ranges are observed: in <see cref="ObserverMode.Ema"/>
/// (QAT, training mode) each batch's min/max moves the range by an exponential moving average (constant 0.01; the
/// first batch sets it), in <see cref="ObserverMode.Calibrate"/> (PTQ) the range is the min/max over all calibration
/// batches and nothing is quantized, and in <see cref="ObserverMode.Frozen"/> (and always in eval mode) the stored range
/// is used as is. Ranges are buffers (<c>&lt;module&gt;.range</c> = [min, max]) so checkpoints carry them.
/// </summary>
public sealed class ActivationQuantizers : nn.Module
{
    private const double Momentum = 0.01;

    private readonly List<Entry> _entries = [];
    private readonly List<Action> _hooks = [];

    private sealed record Entry(string Module, int Bits, Tensor Range, Tensor Seen);

    /// <summary>How ranges are updated: EMA in training mode (QAT), running min/max without quantizing (PTQ calibration), or never.</summary>
    public enum ObserverMode { Ema, Calibrate, Frozen }

    public ActivationQuantizers(IEnumerable<(string Module, int Bits)> modules) : base("activation_quantizers")
    {
        foreach (var (module, bits) in modules)
        {
            if (bits is < 2 or > 8) throw new ArgumentOutOfRangeException(nameof(modules), bits, "activation quantization supports 2..8 bits");
            var e = new Entry(module, bits, torch.zeros(2, ScalarType.Float32), torch.zeros(1, ScalarType.Int64));
            register_buffer($"{module}.range", e.Range);
            register_buffer($"{module}.seen", e.Seen);
            _entries.Add(e);
        }
    }

    /// <summary>Quantizers with fixed ranges (a loaded artifact's).</summary>
    public static ActivationQuantizers Frozen(IEnumerable<ActivationRange> ranges)
    {
        var list = ranges.ToList();
        var q = new ActivationQuantizers(list.Select(r => (r.Module, r.Bits))) { Mode = ObserverMode.Frozen };
        using var _ = torch.no_grad();
        for (int i = 0; i < list.Count; i++)
        {
            q._entries[i].Range.copy_(torch.tensor(new[] { list[i].Min, list[i].Max }));
            q._entries[i].Seen.fill_(1);
        }
        return q;
    }

    public ObserverMode Mode { get; set; } = ObserverMode.Ema;

    /// <summary>The current ranges (for the artifact and quantization.safetensors).</summary>
    public IReadOnlyList<ActivationRange> Ranges => _entries
        .Select(e => { var r = e.Range.cpu().data<float>().ToArray(); return new ActivationRange(e.Module, e.Bits, r[0], r[1]); })
        .ToList();

    /// <summary>Hooks the modules of <paramref name="model"/> named by the entries (replacing earlier hooks).</summary>
    public void Attach(nn.Module model)
    {
        Detach();
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var e in _entries)
        {
            if (!modules.TryGetValue(e.Module, out var m) || m is not nn.Module<Tensor, Tensor> target)
                throw new ArgumentException($"Activation quantizer for '{e.Module}': the model has no such single-input module.");
            _hooks.Add(target.register_forward_pre_hook((mod, x) => Quantize(e, x, mod.training)).remove);
        }
    }

    public void Detach()
    {
        foreach (var remove in _hooks) remove();
        _hooks.Clear();
    }

    private Tensor Quantize(Entry e, Tensor x, bool training)
    {
        if (training && Mode == ObserverMode.Ema || Mode == ObserverMode.Calibrate) Observe(e, x);
        if (Mode == ObserverMode.Calibrate) return x;
        using var scope = torch.NewDisposeScope();
        var r = e.Range.cpu().data<float>().ToArray();
        var (scale, zp) = new ActivationRange(e.Module, e.Bits, r[0], r[1]).Grid();
        var code = (x.detach() / scale).round_().add_(zp).clamp_(0, (1 << e.Bits) - 1);
        var q = (code - zp) * scale;
        var result = x.requires_grad ? x + (q - x.detach()) : q.to(x.dtype);
        return result.MoveToOuterDisposeScope();
    }

    private void Observe(Entry e, Tensor x)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var batch = torch.stack([x.detach().min().to(ScalarType.Float32), x.detach().max().to(ScalarType.Float32)]).cpu();
        if (e.Seen.item<long>() == 0) e.Range.copy_(batch);
        else if (Mode == ObserverMode.Calibrate)
            e.Range.copy_(torch.stack([torch.minimum(e.Range[0], batch[0]), torch.maximum(e.Range[1], batch[1])]));
        else e.Range.mul_(1 - Momentum).add_(batch, alpha: Momentum);
        e.Seen.add_(1);
    }
}
