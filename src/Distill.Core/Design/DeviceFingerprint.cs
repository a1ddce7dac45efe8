using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Distill.Models.Design;
using TorchSharp;

namespace Distill.Design;

/// <summary>
/// What a latency measurement depends on besides the model: the processor (CPU model name, or GPU name), the device
/// kind, the intra-op thread count, the TorchSharp and libtorch versions and the architecture. Profiles are stored under
/// <see cref="Hash"/>, so a second run on the same machine and settings reuses measurements and any other machine
/// (or thread count, or library upgrade) starts its own.
/// </summary>
public sealed record DeviceFingerprint
{
    [JsonPropertyName("device")] public required string Device { get; init; }

    [JsonPropertyName("processor")] public required string Processor { get; init; }

    [JsonPropertyName("threads")] public required int Threads { get; init; }

    [JsonPropertyName("torchsharp")] public required string TorchSharpVersion { get; init; }

    [JsonPropertyName("libtorch")] public required string LibTorchVersion { get; init; }

    [JsonPropertyName("arch")] public required string Architecture { get; init; }

    /// <summary>The runtime the timings were taken in (<see cref="DeploymentShape.RuntimeText"/>): TorchSharp and ONNX Runtime profiles never mix.</summary>
    [JsonPropertyName("runtime")] public string Runtime { get; init; } = "torchsharp";

    /// <summary>The ONNX Runtime version, for ONNX Runtime profiles.</summary>
    [JsonPropertyName("onnxruntime"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? OnnxRuntimeVersion { get; init; }

    /// <summary>First 16 hex digits of the SHA-256 of the canonical JSON of all fields.</summary>
    [JsonIgnore]
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this))))[..16];

    public override string ToString() =>
        $"{Processor} ({Device}, {Threads} thread{(Threads == 1 ? "" : "s")}, " +
        (OnnxRuntimeVersion is { } ort ? $"{Runtime}, ONNX Runtime {ort})" : $"TorchSharp {TorchSharpVersion}, libtorch {LibTorchVersion})");

    /// <summary>The fingerprint of this machine for <paramref name="device"/> with <paramref name="threads"/> intra-op threads, timing in <paramref name="runtime"/>.</summary>
    public static DeviceFingerprint Current(torch.Device device, int threads, DeploymentShape? runtime = null) => new()
    {
        Runtime = runtime?.RuntimeText ?? "torchsharp",
        OnnxRuntimeVersion = runtime is { Runtime: DeploymentRuntime.Onnxruntime }
            ? typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString() ?? "unknown"
            : null,
        Device = device.type == DeviceType.CUDA ? $"cuda:{Math.Max(0, (int)device.index)}" : device.type.ToString().ToLowerInvariant(),
        Processor = device.type == DeviceType.CUDA ? GpuName((int)Math.Max(0, device.index)) : CpuModel(),
        Threads = threads,
        TorchSharpVersion = typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown",
        LibTorchVersion = torch.__version__,
        Architecture = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
    };

    /// <summary>The CPU's model name from <c>/proc/cpuinfo</c> (Linux), else the architecture and core count.</summary>
    public static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is > 0 and var colon)
                        return line[(colon + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return $"{RuntimeInformation.ProcessArchitecture} CPU ({Environment.ProcessorCount} logical cores)";
    }

    /// <summary>The NVIDIA GPU's model from the driver's <c>/proc</c> entry, else a generic name with the device index.</summary>
    public static string GpuName(int index)
    {
        try
        {
            const string root = "/proc/driver/nvidia/gpus";
            if (Directory.Exists(root))
            {
                var gpus = Directory.GetDirectories(root).Order(StringComparer.Ordinal).ToList();
                if (index < gpus.Count && File.Exists(Path.Combine(gpus[index], "information")))
                    foreach (var line in File.ReadLines(Path.Combine(gpus[index], "information")))
                        if (line.StartsWith("Model:", StringComparison.Ordinal)) return line["Model:".Length..].Trim();
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return $"CUDA device {index} (model unknown)";
    }
}
