using Distill.Checkpoints;
using Distill.Models;
using Distill.Models.Cnn;
using Distill.Recipes;
using Distill.Training;
using Distill.Tests.Training;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Checkpoints;

/// <summary>Issue 18, row 3: the checkpoint of the issue held 14 inf values in <c>blocks.1.norm.running_var</c>; such a
/// checkpoint must not be written, and the one on disk must stay.</summary>
public sealed class NonFiniteGuardTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static (CnnModel Model, TrainingSession Session) Session(OptimizerKind optimizer)
    {
        var model = ParamInit.Build(5, () => new CnnModel(new CnnConfig { Channels = [4, 8], HiddenSize = 16 }));
        var spec = new TrainSpec { Optimizer = optimizer, Lr = 0.1, Steps = 10 };
        var opt = OptimizerFactory.Create(spec, model.parameters());
        return (model, new TrainingSession("baseline", model, new CrossEntropyObjective(), opt, 10, new torch.Generator(5, torch.CPU)) { Step = 10 });
    }

    /// <summary>One real optimizer step, so that the optimizer has moments to save.</summary>
    private static void Step(CnnModel model, TrainingSession session)
    {
        var data = Distill.Data.Mnist.MnistDataset.Open(TestRecipes.MnistDir, "test", null, null);
        var batch = data.GetBatch([0, 1, 2, 3]);
        session.Optimizer.zero_grad();
        session.Objective.Compute(model, batch).Total.backward();
        session.Optimizer.step();
    }

    [Fact]
    public void AnInfInABatchNormBufferRefusesTheCheckpointAndKeepsThePreviousOne()
    {
        var (model, session) = Session(OptimizerKind.Sgd);
        Step(model, session);
        string last = Path.Combine(_tmp.Path, "last");
        TrainingCheckpoints.SaveSession(last, session, "baseline", "t");
        string before = CheckpointChecksums.Sha256(Path.Combine(last, "model.safetensors"));

        session.Step = 12;
        using (torch.no_grad()) model.state_dict()["blocks.1.norm.running_var"][0] = float.PositiveInfinity;
        var e = Assert.Throws<NonFiniteStateException>(() => TrainingCheckpoints.SaveSession(last, session, "baseline", "t"));
        Assert.Equal("blocks.1.norm.running_var", e.Tensor);
        Assert.Equal(12, e.Step);
        Assert.Contains("blocks.1.norm.running_var holds 1 non-finite value", e.Message);
        Assert.Contains("step 12", e.Message);
        Assert.Equal(before, CheckpointChecksums.Sha256(Path.Combine(last, "model.safetensors")));
        Assert.Equal(10, CheckpointIO.Verify(last).Step);
        Assert.Single(Directory.GetFileSystemEntries(_tmp.Path)); // no temp folder beside it

        Assert.Throws<NonFiniteStateException>(() => TrainingCheckpoints.SaveModel(Path.Combine(_tmp.Path, "best"), model, new CheckpointState { Stage = "baseline", Step = 12 }));
        Assert.False(Directory.Exists(Path.Combine(_tmp.Path, "best")));
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd, "momentum_buffer")]
    [InlineData(OptimizerKind.Adamw, "exp_avg_sq")]
    public void ANonFiniteOptimizerMomentIsNamedByItsParameter(OptimizerKind kind, string field)
    {
        var (model, session) = Session(kind);
        Step(model, session);
        var state = session.Optimizer.state_dict().State[^1]; // the classifier's bias: the last parameter
        var moment = (torch.Tensor)state.GetType().GetField(field)!.GetValue(state)!;
        using (torch.no_grad()) moment.fill_(float.NaN);
        var e = Assert.Throws<NonFiniteStateException>(() => TrainingCheckpoints.SaveSession(Path.Combine(_tmp.Path, "last"), session, "baseline", "t"));
        Assert.Equal($"optimizer.{model.named_parameters().Last().name}.{field}", e.Tensor);
    }
}
