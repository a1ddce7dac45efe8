using System.Text.Json.Serialization;
using Distill.Recipes;
using Distill.Training;
using Distill.Schema;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Distill.Tests.Recipes;

/// <summary>The binder's scalar strictness, null rules, collections, naming and error collection, on small records.</summary>
public class RecipeBinderTests
{
    public sealed record Sample
    {
        [Bounds(1, 100)] public int Count { get; init; } = 7;
        public double? Rate { get; init; }
        public bool Flag { get; init; }
        public string? Note { get; init; }
        public long Big { get; init; }
        public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;
        [JsonPropertyName("customName")] public string Custom { get; init; } = "";
        public Dictionary<string, int> Widths { get; init; } = [];
        public List<double> Values { get; init; } = [];
        public YamlNode? Raw { get; init; }
        public Pair? Pair { get; init; }
    }

    /// <summary>An <see cref="IRecipeValue{TSelf}"/> with its own syntax: <c>"a:b"</c>.</summary>
    public sealed class Pair : IRecipeValue<Pair>
    {
        public required string A { get; init; }
        public required string B { get; init; }

        public static Pair? FromYaml(YamlNode node, out string? error)
        {
            error = null;
            if (node is YamlScalarNode { Value: { } v } && v.Split(':') is [var a, var b]) return new Pair { A = a, B = b };
            error = "expected a pair 'left:right'";
            return null;
        }
    }

    private static (Sample? Value, IReadOnlyList<RecipeError> Errors) Bind(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var binder = new RecipeBinder("/recipes/sample.yaml");
        var value = binder.Bind<Sample>(stream.Documents[0].RootNode);
        return (value, binder.Errors);
    }

    [Fact]
    public void BindsEverySupportedKind()
    {
        var (s, errors) = Bind("""
            count: 3
            rate: "1e-3"
            flag: true
            note: hello
            big: 12345678901
            optimizer: adamw
            customName: x
            widths: {a: 1, b: 2}
            values: [1, 2.5, -3e2]
            raw: {any: [thing]}
            pair: left:right
            """);
        Assert.Empty(errors);
        Assert.Equal((3, 1e-3, true, "hello", 12345678901L, OptimizerKind.Adamw, "x"),
            (s!.Count, s.Rate, s.Flag, s.Note, s.Big, s.Optimizer, s.Custom));
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }, s.Widths);
        Assert.Equal([1.0, 2.5, -300.0], s.Values);
        Assert.IsType<YamlMappingNode>(s.Raw);
        Assert.Equal(("left", "right"), (s.Pair!.A, s.Pair.B));
    }

    [Fact]
    public void OmittedKeysKeepDefaults_AndNullIsAllowedOnlyForNullables()
    {
        var (s, errors) = Bind("rate: ~\nnote: null\n");
        Assert.Empty(errors);
        Assert.Equal((7, (double?)null, (string?)null, OptimizerKind.Sgd), (s!.Count, s.Rate, s.Note, s.Optimizer));

        var (_, bad) = Bind("count: ~\n");
        RecipeFixtures.Single(bad, 1, 8, "count", "expected an integer >= 1 and <= 100, got null");
    }

    [Theory]
    [InlineData("flag: yes", "flag", "expected true or false, got 'yes'")]
    [InlineData("flag: 1", "flag", "expected true or false, got '1'")]
    [InlineData("count: 1.5", "count", "expected an integer >= 1 and <= 100, got '1.5'")]
    [InlineData("count: 1e2", "count", "expected an integer >= 1 and <= 100, got '1e2'")]
    [InlineData("count: 101", "count", "expected an integer >= 1 and <= 100, got 101")]
    [InlineData("big: 99999999999999999999", "big", "out of range for an integer")]
    [InlineData("rate: abc", "rate", "expected a number, got 'abc'")]
    [InlineData("rate: .inf", "rate", "expected a number, got '.inf'")]
    [InlineData("rate: 0x10", "rate", "expected a number, got '0x10'")]
    [InlineData("rate: [1]", "rate", "expected a number, got a list")]
    [InlineData("note: {a: 1}", "note", "expected a string, got a mapping")]
    [InlineData("values: 3", "values", "expected a list, got '3'")]
    [InlineData("pair: nope", "pair", "expected a pair 'left:right'")]
    [InlineData("optimizer: Adamw", "optimizer", "expected one of adamw, sgd, got 'Adamw' (did you mean 'adamw'?)")]
    [InlineData("custom_name: x", "custom_name", "unknown key 'custom_name' (did you mean 'customName'?)")]
    [InlineData("note: !!str x", "note", "YAML tags such as 'tag:yaml.org,2002:str' are not supported")]
    public void RejectsBadValues(string yaml, string keyPath, string fragment)
    {
        var (_, errors) = Bind(yaml);
        Assert.True(errors.Count == 1, string.Join("\n", errors));
        Assert.Equal(keyPath, errors[0].KeyPath);
        Assert.Equal("/recipes/sample.yaml", errors[0].File);
        Assert.Contains(fragment, errors[0].Message);
    }

    [Fact]
    public void KeepsBindingSiblingsAfterAnError()
    {
        var (s, errors) = Bind("count: x\nflag: maybe\nvalues: [1, two, 3]\nwidths: {a: 1, b: wide}\nnote: fine\n");
        Assert.Equal(["count", "flag", "values[1]", "widths.b"], errors.Select(e => e.KeyPath));
        Assert.Equal([(1, 8), (2, 7), (3, 13), (4, 19)], errors.Select(e => (e.Line, e.Column)));
        Assert.Equal("fine", s!.Note);
        Assert.Equal(7, s.Count);
    }
}
