namespace Distill.Bench;

/// <summary>
/// The data of a bench job. <paramref name="Dataset"/> is <c>mnist</c> or <c>cifar10</c> (read by both sides from the
/// original files, normalised with <paramref name="Mean"/>/<paramref name="Std"/>), or <c>bench_tokens</c>: text already
/// tokenized by Distill into <c>train.safetensors</c> / <c>dev.safetensors</c> under <paramref name="Path"/>
/// (<see cref="BenchTokenDataset"/>), so that both sides see the same token ids and masks.
/// </summary>
/// <param name="TrainLimit">Train on the first n examples of a seeded shuffle (the worker draws it with the job's seed); null = all.</param>
/// <param name="EvalSplit">The split evaluated for accuracy: <c>test</c> (images) or <c>dev</c> (SST-2).</param>
/// <param name="MaxLength">Tokens per example for <c>bench_tokens</c> (every example is padded to it); 0 for images.</param>
public sealed record BenchData(string Dataset, string Path, double[] Mean, double[] Std, int? TrainLimit, int? EvalLimit,
    string EvalSplit = "test", int MaxLength = 0);
