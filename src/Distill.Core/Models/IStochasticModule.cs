using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// A module that draws random numbers in training mode (dropout masks, LayerDrop, SpecAugment). The trainer hands it the
/// stage's generator (<see cref="DistillModel.UseGenerator"/>), so a training run depends on its seed only, and the
/// generator's state is what a resumable checkpoint saves. Null: torch's global generator.
/// </summary>
public interface IStochasticModule
{
    Generator? Generator { get; set; }
}
