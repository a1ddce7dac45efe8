using TorchSharp;
using Xunit;

namespace Distill.Tests;

public class SmokeTests
{
    [Fact]
    public void TorchSharpLoadsAndComputes()
    {
        using var t = torch.ones(3, 3);
        using var r = t.mm(t);
        Assert.Equal(27f, r.sum().item<float>());
    }
}
