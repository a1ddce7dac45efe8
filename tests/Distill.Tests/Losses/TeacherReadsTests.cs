using Distill.Caching;
using Distill.Losses;
using Distill.Recipes;
using Xunit;
using static Distill.Tests.Losses.LossTestHelpers;

namespace Distill.Tests.Losses;

/// <summary>
/// The loss-term contract the teacher cache relies on: every term declares what it reads from the teacher, and the
/// union is what the kinds' semantics say. The expectations are written from the papers' definitions for a 2-layer
/// student and a 4-layer teacher, not taken from the code.
/// </summary>
public class TeacherReadsTests
{
    private const int StudentLayers = 2, TeacherLayers = 4;

    private static LossBuildContext Pair() => Context(StudentLayers, TeacherLayers,
        studentModules: new() { ["s.block"] = [1, 8] }, teacherModules: new() { ["t.block"] = [1, 8] },
        studentHidden: Repeat([1, 7, 8], StudentLayers + 1), teacherHidden: Repeat([1, 7, 8], TeacherLayers + 1),
        studentAttention: Repeat([1, 2, 7, 7], StudentLayers), teacherAttention: Repeat([1, 2, 7, 7], TeacherLayers));

    private static LayerMapping Explicit(params (int, int)[] pairs) => LayerMapping.Pairs(pairs);

    /// <summary>Per kind: a spec and the teacher outputs it must read (taps; hidden-state indices, 0 = embeddings;
    /// attention-map indices, layer l at l − 1).</summary>
    private static readonly Dictionary<string, (LossTermSpec Spec, string[] Taps, int[] Hidden, int[] Attentions)[]> Expected = new()
    {
        // Hinton KD compares the class distributions: logits only.
        ["soft_target"] = [(new SoftTargetSpec(), [], [], [])],
        // Frame-level KD for CTC: the per-frame logits only (the frame mask is the student's).
        ["ctc_soft_target"] = [(new CtcSoftTargetSpec(), [], [], [])],
        // FitNets: the hint module's output.
        ["hint"] = [(new HintSpec { Student = "s.block", Teacher = "t.block" }, ["t.block"], [], [])],
        // TinyBERT g(m) = m·4/2: student layers 1, 2 read teacher layers 2, 4; an explicit pair may read the embeddings (0).
        ["hidden_mse"] =
        [
            (new HiddenMseSpec { Layers = LayerMapping.Uniform }, [], [2, 4], []),
            (new HiddenMseSpec { Layers = Explicit((0, 0), (2, 3)) }, [], [0, 3], []),
        ],
        // DistilBERT's cosine on the last layer (default), or mapped layers.
        ["cosine"] =
        [
            (new CosineSpec(), [], [4], []),
            (new CosineSpec { Layers = LayerMapping.Skip(2) }, [], [2, 4], []),
        ],
        // Attention of teacher layers 2 and 4 under uniform: maps 1 and 3 (layer 1's map is Attentions[0]).
        ["attention"] =
        [
            (new AttentionSpec { Layers = LayerMapping.Uniform }, [], [], [1, 3]),
            (new AttentionSpec { Layers = Explicit((1, 1), (2, 3)) }, [], [], [0, 2]),
        ],
    };

    public static TheoryData<string> Kinds() => [.. LossRegistry.Default.Keys.Order()];

    [Fact]
    public void EveryRegisteredKindHasExpectations() =>
        Assert.Equal(LossRegistry.Default.Keys.Order(), Expected.Keys.Order());

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EachKindReadsWhatItsDefinitionSays(string kind)
    {
        foreach (var (spec, taps, hidden, attentions) in Expected[kind])
        {
            var needs = TeacherNeeds.From([LossRegistry.Default.Create(spec, Pair())]);
            Assert.Equal(taps, needs.Taps);
            Assert.Equal(hidden, needs.HiddenLayers);
            Assert.Equal(attentions, needs.AttentionLayers);
        }
    }

    [Fact]
    public void NeedsAreTheSortedUnionOverTerms()
    {
        var terms = new LossTermSpec[]
        {
            new AttentionSpec { Layers = LayerMapping.Uniform },
            new HiddenMseSpec { Layers = LayerMapping.Uniform },
            new CosineSpec { Layers = Explicit((0, 0), (2, 4)) },
            new HintSpec { Student = "s.block", Teacher = "t.block" },
            new HintSpec { Name = "again", Student = "s.block", Teacher = "t.block" },
            new SoftTargetSpec(),
        }.Select(s => LossRegistry.Default.Create(s, Pair())).ToList();
        var needs = TeacherNeeds.From(terms);
        Assert.Equal(["t.block"], needs.Taps);
        Assert.Equal([0, 2, 4], needs.HiddenLayers);
        Assert.Equal([1, 3], needs.AttentionLayers);
        // Part of the cache layout hash: a change here invalidates every existing cache.
        Assert.Equal("logits; taps [t.block]; hidden [0, 2, 4]; attentions [1, 3]", needs.ToString());
    }

    /// <summary>
    /// Which terms compare the teacher at padded token positions (the text cache stores real tokens only): TinyBERT's
    /// hidden MSE averages over every position unless masked; DistilBERT's cosine and the attention term leave padded
    /// tokens and query rows out (padded key columns have zero weight in both models); logits and taps have no token
    /// storage to worry about.
    /// </summary>
    [Fact]
    public void PaddedTokenReadersAreTheUnmaskedTokenTerms()
    {
        var specs = new (LossTermSpec Spec, bool Padded)[]
        {
            (new SoftTargetSpec(), false),
            (new HintSpec { Student = "s.block", Teacher = "t.block" }, false),
            (new HiddenMseSpec(), true),
            (new HiddenMseSpec { MaskPadding = true }, false),
            (new CosineSpec(), false),
            (new AttentionSpec(), false),
        };
        foreach (var (spec, padded) in specs)
        {
            var term = LossRegistry.Default.Create(spec, Pair());
            Assert.Equal(padded, TeacherNeeds.From([term]).PaddedTokenReaders.Contains(term.Name));
        }
    }

    /// <summary>
    /// A loss term added to the assembly must be reachable from a registered kind (and so be covered above), and the
    /// declaration has no default the term could inherit instead of declaring.
    /// </summary>
    [Fact]
    public void EveryLossTermInTheAssemblyDeclaresItsReads()
    {
        var implementations = typeof(ILossTerm).Assembly.GetTypes()
            .Where(t => typeof(ILossTerm).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false })
            .Select(t => t.FullName).Order().ToList();
        var built = Expected.Values.SelectMany(v => v)
            .Select(e => LossRegistry.Default.Create(e.Spec, Pair()))
            .ToList();
        Assert.All(built, t => Assert.NotNull(t.TeacherReads));
        Assert.Equal(implementations, built.Select(t => t.GetType().FullName).Distinct().Order());

        var declaration = typeof(ILossTerm).GetProperty(nameof(ILossTerm.TeacherReads))!;
        Assert.True(declaration.GetMethod!.IsAbstract, "ILossTerm.TeacherReads must stay without a default implementation.");
        foreach (var type in typeof(ILossTerm).Assembly.GetTypes().Where(t => typeof(ILossTerm).IsAssignableFrom(t) && !t.IsInterface))
        {
            var map = type.GetInterfaceMap(typeof(ILossTerm));
            int i = Array.IndexOf(map.InterfaceMethods, declaration.GetMethod);
            Assert.Equal(type, map.TargetMethods[i].DeclaringType);
        }
    }
}
