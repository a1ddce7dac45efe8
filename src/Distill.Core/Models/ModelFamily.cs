namespace Distill.Models;

/// <summary>A registered model family: how to build it from its config record, and what it consumes.</summary>
/// <param name="Key">Registry key used in recipes (<c>model: cnn</c>).</param>
/// <param name="ConfigType">The family's <see cref="IModelConfig"/> record type; recipes bind <c>config:</c> into it.</param>
/// <param name="Build">Builds a freshly initialised model from a config instance of <paramref name="ConfigType"/>.</param>
/// <param name="Inputs">Names of the batch inputs the family reads (for example <c>pixel_values</c>).</param>
/// <param name="Description">One line for <c>distill --help</c> and error messages.</param>
public sealed record ModelFamily(
    string Key,
    Type ConfigType,
    Func<IModelConfig, DistillModel> Build,
    IReadOnlyList<string> Inputs,
    string Description);
