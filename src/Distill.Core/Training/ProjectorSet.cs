using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>Holds the trainable modules of loss terms (hint projectors) under <c>&lt;term name&gt;</c>, so they train, checkpoint
/// and restore together. Never part of the student: exports leave it out.</summary>
public sealed class ProjectorSet : nn.Module
{
    public ProjectorSet(IEnumerable<(string Name, nn.Module Module)> modules) : base("projectors")
    {
        foreach (var (name, module) in modules) register_module(name.Replace('.', '_'), module);
    }
}
