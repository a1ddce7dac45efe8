using Distill.Models.Hf;
using Distill.Compression.Pruning;
using Distill.Design;
using Distill.Hf;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using Distill.Models.Init;
using Distill.Models.Mlp;
using Distill.Models.Pruning;
using Distill.Models.Vit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Families;

/// <summary>The family descriptors (<see cref="ModelFamily"/>): each is consistent with the registries built from it, and a
/// new family needs one registration.</summary>
public class ModelFamilyTests
{
    private static IEnumerable<ModelFamily> Families => ModelRegistry.Default.Families;

    private static string[] With(Func<ModelFamily, bool> has) => Families.Where(has).Select(f => f.Key).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void EachFamilyHasTheCapabilitiesItShipsWith()
    {
        Assert.Equal(["bert", "cnn", "mlp", "vit", "wav2vec2"], With(_ => true));
        Assert.Equal(["bert", "vit", "wav2vec2"], With(f => f.Hf is not null));
        Assert.Equal(["bert", "vit"], With(f => f.InitRules is not null));
        Assert.Equal(["bert", "cnn", "vit", "wav2vec2"], With(f => f.InitLayout is not null));
        Assert.Equal(["bert", "cnn", "vit", "wav2vec2"], With(f => f.Design is not null));
        Assert.Equal(["bert", "cnn", "mlp", "vit"], With(f => f.Units is not null));
        Assert.Equal(["bert", "cnn", "mlp", "vit", "wav2vec2"], With(f => f.Onnx is not null));
    }

    [Fact]
    public void EveryDescriptorAgreesWithTheRegistriesBuiltFromIt()
    {
        foreach (var family in Families)
        {
            Assert.False(string.IsNullOrWhiteSpace(family.Description), family.Key);
            Assert.True(typeof(IModelConfig).IsAssignableFrom(family.ConfigType), family.Key);
            Assert.NotEmpty(family.Inputs);
            var config = (IModelConfig)Activator.CreateInstance(family.ConfigType)!;

            if (family.Hf is { } hf)
            {
                Assert.Equal(family.Key, hf.Family);
                Assert.True(HfArchitectureRegistry.Default.TryGetFamily(family.Key, out var registered) && ReferenceEquals(hf, registered), family.Key);
                Assert.True(HfArchitectureRegistry.Default.TryGetFamilyByModelType(hf.ModelType, out var byType) && byType.Family == family.Key, family.Key);
                Assert.NotEmpty(hf.Architectures);
                foreach (var architecture in hf.Architectures)
                {
                    Assert.Same(architecture, HfArchitectureRegistry.Default.Resolve(architecture.Name));
                    Assert.Equal(hf.ModelType, architecture.ModelType);
                    Assert.Equal(hf.BasePrefix, architecture.BasePrefix);
                }
                // The HF class a default model of the family is must be one of its architectures, and a head (not a base model).
                var head = hf.Architectures.Single(a => a.Name == hf.HeadArchitecture(config));
                Assert.False(head.IsBase, family.Key);
            }
            if (family.InitRules is { } rules)
            {
                Assert.Equal(family.Key, rules.Family);
                Assert.Same(family.InitLayout, rules.Layout);
                Assert.Same(rules, StudentInitRegistry.Default.Get(family.Key));
            }
            else Assert.False(StudentInitRegistry.Default.TryGet(family.Key, out _), family.Key);
            if (family.Design is { } design)
            {
                Assert.Equal(family.Key, design.Family);
                Assert.Same(design, DesignFamilies.Get(family.Key));
                Assert.NotNull(family.InitLayout); // the design stage initialises its candidates from the teacher
            }
            else Assert.False(DesignFamilies.TryGet(family.Key, out _), family.Key);
            if (family.Units is { } units)
            {
                Assert.NotEmpty(units.Kinds);
                Assert.Same(units, StructuredPruning.UnitsFor(family.Key));
                if (units.Kinds.Contains(PruneUnit.Heads))
                {
                    Assert.True(config is ITransformerEncoderConfig { CanPruneHeads: true }, family.Key);
                    Assert.NotNull(units.HeadModule(0));
                }
            }
            else Assert.Empty(StructuredPruning.UnitsOf(family.Key));
            if (family.Onnx is { } onnx)
            {
                Assert.Equal(family.Key, onnx.Family);
                Assert.Same(onnx, Distill.Onnx.Export.OnnxExportRegistry.Default.Get(family.Key));
            }
            else Assert.Throws<Distill.Models.OnnxGraph.OnnxExportException>(() => Distill.Onnx.Export.OnnxExportRegistry.Default.Get(family.Key));
        }
        // Every registered HF architecture belongs to exactly one family.
        foreach (string name in HfArchitectureRegistry.Default.Names)
            Assert.Single(Families, f => f.Hf?.Architectures.Any(a => a.Name == name) == true);
    }

    public static TheoryData<string> PrunableFamilies => new() { "mlp", "cnn", "bert", "vit" };

    /// <summary>Small models of every prunable family: each unit group's slices name real tensors whose sliced
    /// dimension is units × block, and the smaller config builds a model with exactly the sliced shapes.</summary>
    [Theory]
    [MemberData(nameof(PrunableFamilies))]
    public void UnitGroupsNameRealTensorsAndTheSmallerConfigFits(string key)
    {
        IModelConfig config = key switch
        {
            "mlp" => new MlpConfig { HiddenSizes = [8, 6] },
            "cnn" => new CnnConfig { Channels = [4, 6], HiddenSize = 8 },
            "bert" => new BertConfig { VocabSize = 30, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 12, MaxPositionEmbeddings = 16 },
            _ => new ViTConfig { HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 12, ImageSize = 8, PatchSize = 4, NumChannels = 3 },
        };
        var family = ModelRegistry.Default.Get(key);
        using var model = ParamInit.Build(0, () => family.Build(config));
        var state = model.state_dict();
        var (groups, _) = StructuredPruning.Groups(model, family.Units!.Kinds);
        Assert.Equal(family.Units.Kinds.Order(), groups.Select(g => g.Kind).Distinct().Order());
        foreach (var g in groups)
            foreach (var slice in g.Producers.Concat(g.Consumers))
            {
                Assert.True(state.ContainsKey(slice.Name), $"{key}: {g.Module} names '{slice.Name}', which the model does not have");
                Assert.Equal(g.Count * slice.Block, state[slice.Name].shape[slice.Dim]);
            }
        // Keep the first unit of every group (at least one head per layer must stay).
        var keep = groups.ToDictionary(g => g.Module, _ => new[] { 0 });
        using var smaller = StructuredPruning.Shrink(model, groups, keep, ModelRegistry.Default);
        Assert.Equal(key, smaller.Family);
        Assert.True(smaller.ParameterCount() < model.ParameterCount());
    }

    [Fact]
    public void AddingAFamilyIsOneRegistration()
    {
        var models = new ModelRegistry();
        models.Register(new ToyFamily());

        // Building, by key; an unknown key lists the valid ones.
        using var model = models.Get("toy").Build(new ToyConfig { Hidden = 5 });
        Assert.Equal("toy", model.Family);
        Assert.Contains("Valid families: toy.", Assert.Throws<KeyNotFoundException>(() => models.Get("nope")).Message);

        // HF: the architecture and the model_type are found in a registry built from the model registry.
        var hf = HfArchitectureRegistry.From(models);
        Assert.Equal(["ToyForClassification"], hf.Names);
        Assert.True(hf.TryGetFamilyByModelType("toy", out var toyHf) && toyHf.Family == "toy");

        // Pruning: the units come from the descriptor, and the rebuilt model is the family's, smaller.
        Assert.Equal([PruneUnit.Neurons], StructuredPruning.UnitsOf("toy", models));
        Assert.Empty(StructuredPruning.UnitsOf("toy")); // not in the default registry
        var (groups, uniform) = StructuredPruning.Groups(model, null, models);
        Assert.False(uniform);
        var keep = new Dictionary<string, int[]> { ["layers.0"] = [1, 3] };
        using var smaller = StructuredPruning.Shrink(model, groups, keep, models);
        Assert.Equal(2, ((ToyConfig)smaller.Config).Hidden);
        using (torch.no_grad())
        {
            var before = model.state_dict()["layers.0.weight"].index_select(0, torch.tensor(new long[] { 1, 3 }));
            Assert.True(torch.equal(before, smaller.state_dict()["layers.0.weight"]).all().item<bool>());
        }

        // Teacher init: the layout maps layers; design and recipe init stay unavailable without a design space or rules.
        using var teacher = models.Get("toy").Build(new ToyConfig { Hidden = 7 });
        var report = TeacherInit.ApplyWhereFits(model, teacher, registry: models);
        Assert.Equal([0], report.Layers);
        Assert.Contains("layers.0.weight", report.Truncated);
        Assert.False(DesignFamilies.TryGet("toy", out _, models));
        Assert.Empty(StudentInitRegistry.From(models).Families);

        // A later feature plugs in by an interface the descriptor implements.
        Assert.Equal("hello from toy", models.Get("toy").Feature<IToyFeature>()?.Greeting);
        Assert.Null(ModelRegistry.Default.Get("mlp").Feature<IToyFeature>());
    }

    [Fact]
    public void ADescriptorWhoseHfKeyDisagreesIsRefused()
    {
        var models = new ModelRegistry();
        models.Register(new MislabelledFamily());
        Assert.Contains("keys must agree", Assert.Throws<InvalidOperationException>(() => HfArchitectureRegistry.From(models)).Message);
        Assert.Throws<InvalidOperationException>(() => models.Register(new MislabelledFamily()));
    }

    private sealed class MislabelledFamily : ModelFamily
    {
        public override string Key => "mislabelled";
        public override string Description => "HF family keyed differently";
        public override Type ConfigType => typeof(ToyConfig);
        public override IReadOnlyList<string> Inputs { get; } = ["x"];
        public override DistillModel Build(IModelConfig config) => new ToyModel(As<ToyConfig>(config));
        public override HfFamily Hf { get; } = new("other", "other", "other")
        {
            LoadConfig = _ => new ToyConfig(), HeadArchitecture = _ => "X", NumLabels = _ => 2, WithNumLabels = (c, _) => c,
        };
    }

    [Fact]
    public void TheDesignStagesInitialisationIsTheRecipesForANarrowerShallowerEncoder()
    {
        // One algorithm: a candidate that fits the teacher everywhere gets exactly what init_from_teacher gives it.
        var teacherConfig = new BertConfig { VocabSize = 30, HiddenSize = 16, NumHiddenLayers = 4, NumAttentionHeads = 4, IntermediateSize = 12, MaxPositionEmbeddings = 16 };
        var studentConfig = teacherConfig with { HiddenSize = 8, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 6 };
        var family = ModelRegistry.Default.Get("bert");
        using var teacher = ParamInit.Build(1, () => family.Build(teacherConfig));
        using var viaDesign = ParamInit.Build(2, () => family.Build(studentConfig));
        using var viaRecipe = ParamInit.Build(3, () => family.Build(studentConfig));
        var design = TeacherInit.ApplyWhereFits(viaDesign, teacher);
        // Spread over 4 teacher layers: student 0 <- 1, student 1 <- 3, which is skip:2.
        Assert.Equal([1, 3], design.Layers);
        Assert.Equal(LayerSelection.Skip(2).Resolve(4), design.Layers);
        var recipe = TeacherInit.Apply(viaRecipe, teacher, design.Layers, family.InitRules!);
        Assert.Empty(design.Fresh);
        Assert.Equal(recipe.Copied.Order(), design.Copied.Order());
        Assert.Equal(recipe.Truncated.Order(), design.Truncated.Order());
        var a = viaDesign.state_dict();
        foreach (var (name, tensor) in viaRecipe.state_dict())
            Assert.True(tensor.shape.SequenceEqual(a[name].shape) && torch.equal(tensor, a[name]).all().item<bool>(), name);
    }

    [Theory]
    [InlineData(12, 4, new[] { 2, 5, 8, 11 })]
    [InlineData(12, 5, new[] { 2, 4, 7, 9, 11 })]
    [InlineData(3, 3, new[] { 0, 1, 2 })]
    [InlineData(2, 4, new[] { 0, 0, 1, 1 })]
    [InlineData(5, 0, new int[0])]
    public void SpreadTakesTheLastLayerOfEachNearEqualBlock(int teacherLayers, int studentLayers, int[] expected)
    {
        Assert.Equal(expected, LayerSelection.Spread(studentLayers).Resolve(teacherLayers));
        Assert.Equal($"spread:{studentLayers}", LayerSelection.Spread(studentLayers).ToString());
    }
}
