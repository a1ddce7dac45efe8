using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// Parameter initialisation from an explicit <see cref="Generator"/>, so that a model's initial weights depend on its
/// seed only, not on what else (a test running beside it) draws from torch's process-wide generator.
/// <para>TorchSharp's module constructors (Linear, Conv, Embedding) always draw from the global generator, so the models
/// wrap each such module in <see cref="Redraw{T}"/> (or use <see cref="Embedding"/>), which redraws its default
/// initialisation from the generator of the enclosing <see cref="Build{T}(Generator, Func{T})"/> at once, in construction
/// order; the families' own initialisers draw through <see cref="Normal_"/>, <see cref="Uniform_"/>, <see cref="Randn"/>...
/// A generator seeded with s therefore gives the same numbers, in the same order, as <c>torch.manual_seed(s)</c> followed
/// by a build on the global generator did (checked by <c>GeneratorParityTests</c>).</para>
/// <para>Outside a <see cref="Build{T}(Generator, Func{T})"/> (checkpoint loading, meta-device builds) nothing is
/// redrawn and the draws come from the global generator, as before.</para>
/// </summary>
public static class ParamInit
{
    // Per thread: a build runs on one thread, and parallel builds on other threads must not see this one's generator.
    [ThreadStatic] private static Generator? t_current;

    /// <summary>The generator of the innermost <see cref="Build{T}(Generator, Func{T})"/> on this thread; null outside one.</summary>
    public static Generator? Current => t_current;

    /// <summary>A CPU generator seeded with <paramref name="seed"/> (models are built on the CPU, then moved).</summary>
    public static Generator Seeded(long seed) => new(unchecked((ulong)seed), CPU); // manual_seed reinterprets the bits likewise

    /// <summary>Runs <paramref name="build"/> with every initialisation drawn from <paramref name="generator"/>.</summary>
    public static T Build<T>(Generator generator, Func<T> build)
    {
        var previous = t_current;
        t_current = generator;
        try
        {
            return build();
        }
        finally
        {
            t_current = previous;
        }
    }

    /// <summary><see cref="Build{T}(Generator, Func{T})"/> with a fresh generator seeded with <paramref name="seed"/>.</summary>
    public static T Build<T>(long seed, Func<T> build) => Build(Seeded(seed), build);

    /// <summary>
    /// Redraws PyTorch's default initialisation of a just-constructed Linear, Conv1d or Conv2d from <see cref="Current"/>:
    /// weight Kaiming-uniform with a = √5, bias U(±1/√fan_in), as their constructors do. Outside a build: unchanged.
    /// </summary>
    public static T Redraw<T>(T module) where T : nn.Module
    {
        if (t_current is not { } g) return module;
        var (weight, bias) = module switch
        {
            Linear l => (l.weight, l.bias),
            Convolution c => (c.weight, c.bias),
            _ => throw new ArgumentException($"ParamInit.Redraw: {module.GetType().Name} has no default initialisation known here.", nameof(module)),
        };
        using var _ = no_grad();
        long fanIn = FanIn(weight!);
        weight!.uniform_(-KaimingBound(fanIn, Math.Sqrt(5)), KaimingBound(fanIn, Math.Sqrt(5)), g);
        if (bias is not null)
        {
            double bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
            bias.uniform_(-bound, bound, g);
        }
        return module;
    }

    /// <summary>An Embedding with PyTorch's default initialisation, N(0, 1) with a zero padding row, drawn from <see cref="Current"/>.</summary>
    public static Embedding Embedding(long count, long dim, long? paddingIdx = null)
    {
        var embedding = nn.Embedding(count, dim, padding_idx: paddingIdx);
        if (t_current is not { } g) return embedding;
        using var _ = no_grad();
        embedding.weight!.normal_(0, 1, g);
        if (paddingIdx is { } pad) embedding.weight[pad].fill_(0);
        return embedding;
    }

    // The tensor methods, not nn.init.normal_/uniform_: with a generator those draw other numbers than the global path did
    // (TorchSharp 0.107), while tensor.normal_(mean, std, g) matches nn.init.normal_ on the global generator bit for bit.

    /// <summary>In place: N(mean, std²) from <see cref="Current"/> (or the global generator).</summary>
    public static Tensor Normal_(Tensor tensor, double mean, double std) => tensor.normal_(mean, std, t_current);

    /// <summary>In place: U(low, high) from <see cref="Current"/> (or the global generator).</summary>
    public static Tensor Uniform_(Tensor tensor, double low, double high) => tensor.uniform_(low, high, t_current);

    /// <summary>In place: <c>nn.init.kaiming_normal_</c> with its defaults (a = 0, fan_in, leaky_relu gain √2).</summary>
    public static Tensor KaimingNormal_(Tensor tensor)
    {
        double std = Math.Sqrt(2.0 / (1 + Math.Pow(0, 2))) / Math.Sqrt(FanIn(tensor));
        return tensor.normal_(0, std, t_current);
    }

    /// <summary>N(0, 1) of <paramref name="shape"/> (float32, CPU) from <see cref="Current"/>.</summary>
    public static Tensor Randn(params long[] shape) => torch.randn(shape, generator: t_current);

    /// <summary>U[0, 1) of <paramref name="shape"/> (float32, CPU) from <see cref="Current"/>.</summary>
    public static Tensor Rand(params long[] shape) => torch.rand(shape, generator: t_current);

    /// <summary>libtorch's fan-in: size(1) times the receptive field (the product of the dimensions after the second).</summary>
    private static long FanIn(Tensor weight)
    {
        long fan = weight.shape[1];
        for (int i = 2; i < weight.shape.Length; i++) fan *= weight.shape[i];
        return fan;
    }

    // As libtorch: gain = √(2 / (1 + a²)) (leaky_relu), std = gain / √fan_in, bound = √3 · std.
    private static double KaimingBound(long fanIn, double a) => Math.Sqrt(3.0) * (Math.Sqrt(2.0 / (1 + Math.Pow(a, 2))) / Math.Sqrt(fanIn));
}
