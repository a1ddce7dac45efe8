using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using Distill.Models.Mlp;
using Distill.Models.Vit;
using Distill.Models.Wav2Vec2;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static Distill.Tests.Wav2Vec2.Wav2Vec2TestData;

namespace Distill.Tests.Training;

/// <summary>
/// Moving the randomness to explicit generators kept every seed's numbers: a generator seeded with s and drawn in the
/// same order gives exactly what <c>torch.manual_seed(s)</c> and the global generator gave (the path models still take
/// outside <see cref="ParamInit.Build{T}(long, Func{T})"/> and without <see cref="DistillModel.UseGenerator"/>).
/// Serial by nature: the reference side draws from the process-wide generator.
/// </summary>
[Collection(SerialCollection.Name)]
public class GeneratorParityTests
{
    private const long Seed = 1234;

    public static TheoryData<string> Families() => ["mlp", "cnn", "bert", "vit", "wav2vec2-groupnorm", "wav2vec2-layernorm"];

    private static IModelConfig Config(string family) => family switch
    {
        "mlp" => new MlpConfig { InputSize = 12, HiddenSizes = [9, 7], NumLabels = 3, Dropout = 0.3 },
        "cnn" => new CnnConfig { InChannels = 1, ImageSize = 8, Channels = [3, 4], HiddenSize = 6, NumLabels = 3, Dropout = 0.3 },
        "bert" => new BertConfig
        {
            VocabSize = 50, HiddenSize = 8, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 12, MaxPositionEmbeddings = 16,
            NumLabels = 3, PadTokenId = 0,
        },
        "vit" => new ViTConfig { HiddenSize = 8, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 12, ImageSize = 8, PatchSize = 4, NumLabels = 3,
            HiddenDropoutProb = 0.2, AttentionProbsDropoutProb = 0.2 },
        _ => Wav2Vec2TestConfig(family["wav2vec2-".Length..]),
    };

    private static Wav2Vec2Config Wav2Vec2TestConfig(string variant) =>
        Wav2Vec2Config.FromJsonFile(Path.Combine(Folder(variant, "Wav2Vec2ForSequenceClassification"), "config.json")) with
        {
            MaskTimeProb = 0.3, MaskTimeLength = 2, MaskFeatureProb = 0.2, MaskFeatureLength = 2, LayerDrop = 0.3,
        };

    private static DistillModel Build(string family)
    {
        var config = Config(family);
        return ModelRegistry.Default.Get(family.Split('-')[0]).Build(config);
    }

    private static Batch Input(string family, long seed)
    {
        var g = new Generator((ulong)seed, CPU);
        return family switch
        {
            "mlp" => new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = torch.rand(4, 12, generator: g) }, null),
            "cnn" => new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = torch.rand([4, 1, 8, 8], generator: g) }, null),
            "bert" => new Batch(new Dictionary<string, Tensor> { ["input_ids"] = torch.randint(1, 50, [4, 10], generator: g) }, null),
            "vit" => new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = torch.rand([4, 3, 8, 8], generator: g) }, null),
            _ => new Batch(new Dictionary<string, Tensor> { ["input_values"] = torch.randn([2, 4000], generator: g) }, null),
        };
    }

    private static bool Same(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.detach().cpu().contiguous().bytes.SequenceEqual(b.detach().cpu().contiguous().bytes);

    private static void Identical(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, e) in expected)
            Assert.True(Same(e, actual[name]), $"{name} differs");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void SeededGeneratorInitialisesAsManualSeedDid(string family)
    {
        torch.manual_seed(Seed);
        using var reference = Build(family);
        using var seeded = ParamInit.Build(Seed, () => Build(family));
        Identical(reference.state_dict(), seeded.state_dict());
    }

    /// <summary>Dropout masks, LayerDrop and SpecAugment in a training forward pass (inputs needing gradients, as in training).</summary>
    [Theory]
    [MemberData(nameof(Families))]
    public void SeededGeneratorDrawsTrainingRandomnessAsManualSeedDid(string family)
    {
        using var model = ParamInit.Build(Seed, () => Build(family));
        model.train();
        var batch = Input(family, 5);
        foreach (var t in batch.Inputs.Values.Where(t => t.is_floating_point())) t.requires_grad = true;

        torch.manual_seed(Seed);
        var reference = model.call(batch);
        model.UseGenerator(new Generator(Seed, CPU));
        var seeded = model.call(batch);
        Identical(new Dictionary<string, Tensor> { ["logits"] = reference.Logits }, new Dictionary<string, Tensor> { ["logits"] = seeded.Logits });

        // and the randomness does act: another seed gives other logits
        model.UseGenerator(new Generator(Seed + 1, CPU));
        Assert.False(Same(reference.Logits, model.call(batch).Logits));
    }

    [Fact]
    public void GeneratorsDrawTheNumbersOfTheGlobalGenerator()
    {
        torch.manual_seed(Seed);
        Tensor[] global = [torch.randn(3, 5), torch.rand(1000), torch.randperm(50), torch.empty(64, 33).bernoulli_(0.9)];
        var g = new Generator(Seed, CPU);
        Tensor[] seeded = [torch.randn(3, 5, generator: g), torch.rand(1000, generator: g), torch.randperm(50, generator: g), torch.empty(64, 33).bernoulli_(0.9, g)];
        for (int i = 0; i < global.Length; i++) Assert.True(Same(global[i], seeded[i]), $"draw {i}");

        // and the state a checkpoint saves is the same bytes
        torch.manual_seed(Seed);
        torch.rand(10);
        var h = new Generator(Seed, CPU);
        torch.rand(10, generator: h);
        Assert.True(Same(torch.get_rng_state(), h.get_state()));
    }
}
