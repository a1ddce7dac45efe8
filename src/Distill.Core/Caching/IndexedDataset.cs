using Distill.Data;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Caching;

/// <summary>
/// Adds each example's index in the training set as the int64 input <see cref="TeacherCache.IndexInput"/> (B), so the
/// distillation objective can look up the teacher's cached outputs for exactly the examples of the batch. Models ignore
/// inputs they do not read.
/// </summary>
public sealed class IndexedDataset(IDataset source) : IDataset
{
    public int Count => source.Count;

    public int NumClasses => source.NumClasses;

    public int Label(int index) => source.Label(index);
    public Distill.Text.CtcVocabulary? Vocabulary => source.Vocabulary;
    public string Transcript(int index) => source.Transcript(index);

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        var batch = source.GetBatch(indices);
        var ids = new long[indices.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = indices[i];
        var inputs = batch.Inputs.ToDictionary(kv => kv.Key, kv => kv.Value);
        inputs[TeacherCache.IndexInput] = torch.tensor(ids); // (B)
        return new Batch(inputs, batch.Labels);
    }
}
