using Distill.Checkpoints;
using Xunit;

namespace Distill.Tests;

public class SafeTensorsSmokeTests
{
    [Fact]
    public void ReadsHfCheckpointAndRoundTrips()
    {
        string path = Path.Combine(TestPaths.Hf("bert-tiny-random-student-BertForSequenceClassification"), "model.safetensors");
        var tensors = SafeTensors.Load(path);
        Assert.Equal(25, tensors.Count);
        Assert.Equal(new long[] { 2, 16 }, tensors["classifier.weight"].shape);
        string tmp = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Save(tmp, tensors);
            var back = SafeTensors.Load(tmp);
            foreach (var (k, v) in tensors) Assert.True(v.equal(back[k]).all().item<bool>(), k);
        }
        finally { File.Delete(tmp); }
    }
}
