using Distill.Losses;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using Distill.Models.Vit;
using Distill.Recipes;
using Distill.Training;

namespace Distill.Bench;

/// <summary>
/// One workload of <c>distill bench</c>: teacher and student (family + config), data, optimisation, loss terms, and
/// the default sizes that keep a <c>--reps 3</c> bench of it within about ten minutes on two cores. The models, data,
/// optimiser settings and terms are those of a shipped recipe (<see cref="Recipe"/>); <see cref="Differences"/> lists
/// what the bench changes and why (shorter warm-up for short runs, no student dropout so both sides do the same work).
/// </summary>
public sealed record BenchWorkload
{
    /// <summary>The <c>--workload</c> name.</summary>
    public required string Name { get; init; }

    /// <summary>One line for help and the report footer.</summary>
    public required string Description { get; init; }

    /// <summary>The shipped recipe the models, data and terms come from (relative to the repository root).</summary>
    public required string Recipe { get; init; }

    /// <summary>What differs from <see cref="Recipe"/>'s distill stage, for the report footer.</summary>
    public required string Differences { get; init; }

    public required string TeacherFamily { get; init; }
    public required IModelConfig TeacherConfig { get; init; }
    public required string StudentFamily { get; init; }
    public required IModelConfig StudentConfig { get; init; }

    /// <summary>Recipe dataset key: <c>mnist</c>, <c>cifar10</c> (read by both sides) or <c>sst2</c> (tokenized by Distill into <see cref="BenchTokenDataset"/> files).</summary>
    public required string Dataset { get; init; }

    /// <summary>Default data folder, relative to the repository root (found from the current folder up).</summary>
    public required string DataFolder { get; init; }

    /// <summary>Default tokenizer folder for text data, relative to the repository root.</summary>
    public string? TokenizerFolder { get; init; }

    /// <summary>Per-channel normalisation of image data ((x/255 − mean) / std); empty for text.</summary>
    public double[] Mean { get; init; } = [];

    /// <summary>See <see cref="Mean"/>.</summary>
    public double[] Std { get; init; } = [];

    /// <summary>Tokens per text example (fixed padding); 0 for images.</summary>
    public int MaxLength { get; init; }

    /// <summary>The split the final accuracy is measured on.</summary>
    public string EvalSplit { get; init; } = "test";

    /// <summary>AdamW, learning rate, weight decay, schedule, warm-up, batch size, clipping, seed.</summary>
    public required TrainSpec Train { get; init; }

    /// <summary>The distillation terms, in the order they are summed (soft_target first; hint, hidden_mse, attention at most once each).</summary>
    public required IReadOnlyList<LossTermSpec> Terms { get; init; }

    /// <summary>Default epochs per measured run.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Default training subset (first n of a seeded shuffle); null = the whole training split.</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Default cross-entropy steps that train the teacher before the runs (0 = teacher at initialisation).</summary>
    public int TeacherSteps { get; init; } = 300;

    /// <summary>Default steps of the long RSS run per side (0 = skip).</summary>
    public int RssSteps { get; init; } = 2000;

    /// <summary>RSS sampling interval of the runs, steps.</summary>
    public int RssEvery { get; init; } = 50;

    /// <summary>The quickstart distillation: cnn [16,32]/128 → cnn [4,8]/32 on MNIST, soft targets + a FitNets hint.</summary>
    public static BenchWorkload Quickstart { get; } = new()
    {
        Name = "quickstart",
        Description = "cnn [16,32]/128 -> cnn [4,8]/32 on MNIST, soft_target T=4 alpha=0.9 + hint blocks.1 -> blocks.1 (1x1 conv), batch 128",
        Recipe = "recipes/quickstart.yaml",
        Differences = "none: the recipe's distill stage as it is",
        TeacherFamily = "cnn",
        TeacherConfig = new CnnConfig { Channels = [16, 32], HiddenSize = 128 },
        StudentFamily = "cnn",
        StudentConfig = new CnnConfig { Channels = [4, 8], HiddenSize = 32 },
        Dataset = "mnist",
        DataFolder = "data/mnist",
        Mean = [0.1307],
        Std = [0.3081],
        Train = new TrainSpec
        {
            Optimizer = OptimizerKind.Adamw, Lr = 0.002, WeightDecay = 0.01, Schedule = ScheduleKind.Cosine, WarmupSteps = 50,
            BatchSize = 128, GradClip = 5.0, Seed = 42,
        },
        Terms =
        [
            new SoftTargetSpec { Name = "kd", Temperature = 4, Alpha = 0.9 },
            new HintSpec { Name = "hint", Student = "blocks.1", Teacher = "blocks.1", Weight = 0.5 },
        ],
        Epochs = 3, TeacherSteps = 300, RssSteps = 2000,
    };

    /// <summary>
    /// recipes/bert-sst2.yaml's distill stage: 2-layer BERT (hidden 128) → 1-layer BERT (hidden 64), vocab 30,522, on
    /// SST-2 sentences tokenized to 64 tokens, soft targets + TinyBERT hidden-state MSE + attention-map KL, batch 64.
    /// </summary>
    public static BenchWorkload BertSst2 { get; } = new()
    {
        Name = "bert-sst2",
        Description = "bert 2x128 -> bert 1x64 (vocab 30,522) on SST-2 sentences padded to 64 tokens, soft_target T=2 alpha=0.5 + hidden_mse + attention (KL), batch 64",
        Recipe = "recipes/bert-sst2.yaml",
        Differences = "all three terms of the recipe's distill stage; student dropout 0 (recipe: 0.1) so that both sides do identical work; " +
                      "every sentence padded to 64 tokens (recipe: to the batch's longest) so that the teacher cache can hold per-token states; " +
                      "10 warm-up steps (recipe: 100)",
        TeacherFamily = "bert",
        TeacherConfig = new BertConfig
        {
            VocabSize = 30522, HiddenSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 512,
            MaxPositionEmbeddings = 128, NumLabels = 2,
        },
        StudentFamily = "bert",
        StudentConfig = new BertConfig
        {
            VocabSize = 30522, HiddenSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 256,
            MaxPositionEmbeddings = 128, NumLabels = 2, HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0,
        },
        Dataset = "sst2",
        DataFolder = "data/sst2",
        TokenizerFolder = "data/bert-base-uncased-tokenizer",
        MaxLength = 64,
        EvalSplit = "dev",
        Train = new TrainSpec
        {
            Optimizer = OptimizerKind.Adamw, Lr = 0.001, WeightDecay = 0.01, Schedule = ScheduleKind.Linear, WarmupSteps = 10,
            BatchSize = 64, Seed = 42,
        },
        Terms =
        [
            new SoftTargetSpec { Name = "kd", Temperature = 2, Alpha = 0.5 },
            new HiddenMseSpec { Name = "hidden", Layers = LayerMapping.Uniform },
            new AttentionSpec { Name = "attn", Layers = LayerMapping.Uniform, Loss = AttentionLossKind.Kl },
        ],
        Epochs = 3, TrainLimit = 1280, TeacherSteps = 200, RssSteps = 500,
    };

    /// <summary>
    /// recipes/vit-cifar10.yaml's distill stage: 4-layer ViT (hidden 128) → 2-layer ViT (hidden 32), 32×32×3 images in
    /// 4×4 patches, soft targets + TinyBERT hidden-state MSE, batch 64.
    /// </summary>
    public static BenchWorkload VitCifar10 { get; } = new()
    {
        Name = "vit-cifar10",
        Description = "vit 4x128 -> vit 2x32 on CIFAR-10 32x32x3 (4x4 patches, 65 tokens), soft_target T=4 alpha=0.9 + hidden_mse, batch 64",
        Recipe = "recipes/vit-cifar10.yaml",
        Differences = "both terms of the recipe's distill stage; 10 warm-up steps (recipe: 50)",
        TeacherFamily = "vit",
        TeacherConfig = new ViTConfig
        {
            ImageSize = 32, PatchSize = 4, NumChannels = 3, HiddenSize = 128, NumHiddenLayers = 4, NumAttentionHeads = 4,
            IntermediateSize = 256, HiddenDropoutProb = 0.1, NumLabels = 10,
        },
        StudentFamily = "vit",
        StudentConfig = new ViTConfig
        {
            ImageSize = 32, PatchSize = 4, NumChannels = 3, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2,
            IntermediateSize = 64, NumLabels = 10,
        },
        Dataset = "cifar10",
        DataFolder = "data/cifar10",
        Mean = [0.5, 0.5, 0.5],
        Std = [0.5, 0.5, 0.5],
        Train = new TrainSpec
        {
            Optimizer = OptimizerKind.Adamw, Lr = 0.001, WeightDecay = 0.05, Schedule = ScheduleKind.Cosine, WarmupSteps = 10,
            BatchSize = 64, Seed = 42,
        },
        Terms =
        [
            new SoftTargetSpec { Name = "kd", Temperature = 4, Alpha = 0.9 },
            new HiddenMseSpec { Name = "hidden", Layers = LayerMapping.Uniform },
        ],
        Epochs = 3, TrainLimit = 1280, TeacherSteps = 200, RssSteps = 500,
    };

    /// <summary>Every workload, in the order of the help text.</summary>
    public static IReadOnlyList<BenchWorkload> All { get; } = [Quickstart, BertSst2, VitCifar10];

    /// <summary>The workload called <paramref name="name"/>; an <see cref="ArgumentException"/> listing the names otherwise.</summary>
    public static BenchWorkload Get(string name) =>
        All.FirstOrDefault(w => w.Name == name)
        ?? throw new ArgumentException($"Unknown workload '{name}'. Workloads: {string.Join(", ", All.Select(w => w.Name))}.");
}
