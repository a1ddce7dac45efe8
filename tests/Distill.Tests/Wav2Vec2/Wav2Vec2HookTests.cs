using Distill.Models;
using Distill.Models.Wav2Vec2;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static Distill.Tests.Wav2Vec2.Wav2Vec2TestData;

namespace Distill.Tests.Wav2Vec2;

public class Wav2Vec2HookTests
{
    [Fact]
    public void ForwardHooksOnSubmodulesFireThroughTheHeads()
    {
        string folder = Folder("groupnorm", "Wav2Vec2ForCTC");
        var model = new Wav2Vec2ForCTC(Config(folder));
        LoadStrict(model, Checkpoint(folder));
        model.eval();
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        int baseCalls = 0, ffnCalls = 0;
        Tensor? tapped = null;
        ((nn.Module<Batch, Wav2Vec2ModelOutput>)modules["wav2vec2"]).register_forward_hook((_, _, o) => { baseCalls++; return o; });
        ((nn.Module<Tensor, Tensor>)modules["wav2vec2.encoder.layers.1.feed_forward"]).register_forward_hook((_, _, o) => { ffnCalls++; tapped = o; return o; });
        var reference = Reference(folder);
        using var _ = torch.no_grad();
        model.call(Batch(reference, withMask: false, withLabels: false));
        Assert.Equal(1, baseCalls);
        Assert.Equal(1, ffnCalls);
        Assert.Equal(new long[] { 2, 9, 32 }, tapped!.shape);
    }
}
