using Distill.Caching;
using Distill.Losses;
using Distill.Models;
using Distill.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Caching;

/// <summary>The distillation objective runs the teacher in its own dispose scope and keeps only what the terms read.</summary>
public class TeacherScopeTests
{
    [Fact]
    public void UnusedTeacherActivationsAreFreedAndUsedOnesSurviveTheStep()
    {
        using var f = new CacheFixture();
        using var objective = new DistillObjective(f.Teacher, f.Terms); // kd + hint on teacher blocks.1
        using var spy = FeatureTaps.Attach(f.Teacher, ["blocks.0", "fc"]);
        using var step = torch.NewDisposeScope();
        var loss = objective.Compute(f.Student, f.Train().GetBatch([0, 1, 2, 3]));
        // blocks.0 and fc are read by no term: freed when the teacher's scope closed, before the student ran.
        Assert.True(spy.Features["blocks.0"].IsInvalid);
        Assert.True(spy.Features["fc"].IsInvalid);
        // What the terms read is still alive: the loss and its backward work.
        loss.Total.backward();
        Assert.True(double.IsFinite(loss.Total.item<float>()));
    }

    [Fact]
    public void AnInputReturnedAsHiddenStateIsNotLeakedOutOfTheStep()
    {
        // The CNN returns its input as hidden state 0; a hidden_mse term on layer 0 keeps it. It belongs to the step's
        // scope and must be disposed with it (moving it "out" of the teacher scope would move it out of the step too).
        using var f = new CacheFixture();
        var shapes = ShapeProbe.Measure(f.Student, f.Teacher, Distill.Data.Mnist.MnistDataset.Kind.Inputs(f.Spec));
        var terms = new List<ILossTerm>
        {
            LossRegistry.Default.Create(new SoftTargetSpec(), shapes),
            LossRegistry.Default.Create(new HiddenMseSpec { Layers = LayerMapping.Pairs([(0, 0)]) }, shapes),
        };
        using var objective = new DistillObjective(f.Teacher, terms);
        Tensor pixels;
        using (var step = torch.NewDisposeScope())
        {
            var batch = f.Train().GetBatch([0, 1]);
            pixels = batch["pixel_values"];
            var loss = objective.Compute(f.Student, batch);
            loss.Total.backward();
            Assert.False(pixels.IsInvalid);
        }
        Assert.True(pixels.IsInvalid);
    }

    [Fact]
    public void ReadingATeacherLayerNoTermDeclaredIsAClearError()
    {
        var kept = new KeptLayers(3, new Dictionary<int, Tensor> { [2] = torch.zeros(1) }, "hidden state");
        Assert.Equal(3, kept.Count);
        Assert.Equal(1, kept[2].numel());
        var e = Assert.Throws<InvalidOperationException>(() => kept[1]);
        Assert.Contains("hidden state 1 was not kept", e.Message);
    }
}
