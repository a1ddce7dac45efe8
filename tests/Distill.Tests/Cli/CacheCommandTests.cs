using Distill.Caching;
using Xunit;

namespace Distill.Tests.Cli;

/// <summary>
/// <c>distill cache build --shard i/N</c> and <c>distill cache merge</c> on a real recipe (a pretrained tiny BERT
/// teacher on SST-2 text, soft targets + hidden states): 3 shard builds merged equal the single-process build byte
/// for byte; a run finding the shards merges them; a shard out of range, a missing shard and a recipe without
/// <c>distill.cache.dir</c> are exit 2 with nothing written.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class CacheCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "distill-tests", "cache-cli-" + Guid.NewGuid().ToString("N"));
    private readonly string _recipe;

    public CacheCommandTests()
    {
        Directory.CreateDirectory(_root);
        string teacher = Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "hf", "bert-tiny-random-BertForSequenceClassification");
        string data = Path.Combine(TestPaths.RepoRoot, "data", "sst2");
        _recipe = Path.Combine(_root, "recipe.yaml");
        // 96 examples, build batches of 2 in windows of 32: 3 windows, one per shard.
        File.WriteAllText(_recipe, $"""
            teacher:
              pretrained: {teacher}
            student:
              model: bert
              config: {"{"}vocab_size: 30522, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 64, num_labels: 2{"}"}
            data:
              dataset: sst2
              path: {data}
              tokenizer: {teacher}
              max_length: 32
              train_split: train
              eval_split: dev
              train_limit: 96
              eval_limit: 16
              eval_batch_size: 16
            distill:
              terms:
                - {"{"}kind: soft_target, temperature: 2, alpha: 0.5{"}"}
                - {"{"}kind: hidden_mse, mask_padding: true{"}"}
              cache: {"{"}encoding: fp32, dir: cache, batch_size: 2{"}"}
            train: {"{"}steps: 2, batch_size: 8, warmup_steps: 0, log_every: 1, histogram_every: null, checkpoint_every: 100, seed: 3{"}"}
            output: {"{"}tensorboard: false{"}"}
            stages:
              - kind: distill
            """);
    }

    private (int Exit, string Out, string Err) Cli(params string[] args) => CliRunner.Run(args);

    private string Dir(string name) => Path.Combine(_root, name);

    private static Dictionary<string, byte[]> DataFiles(string dir) =>
        Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != CacheManifest.FileName).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private static void AssertSameCache(string expected, string actual)
    {
        var a = DataFiles(expected);
        var b = DataFiles(actual);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        Assert.True(a.Count >= 3, string.Join(", ", a.Keys)); // logits, a hidden state, token lengths
        foreach (var (name, bytes) in a) Assert.True(bytes.AsSpan().SequenceEqual(b[name]), $"{name} differs");
        var (ma, mb) = (CacheManifest.TryRead(expected)!, CacheManifest.TryRead(actual)!);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(ma with { BuildSeconds = 0, CreatedUtc = "", BuildExamplesPerSecond = null }, CacheManifest.Json),
            System.Text.Json.JsonSerializer.Serialize(mb with { BuildSeconds = 0, CreatedUtc = "", BuildExamplesPerSecond = null }, CacheManifest.Json));
    }

    [Fact]
    public void ThreeShardBuildsMergeIntoTheSingleProcessCacheAndARunMergesThemItself()
    {
        var single = Cli("cache", "build", _recipe, "--set", "distill.cache.dir=single");
        Assert.True(single.Exit == 0, single.Err + single.Out);
        Assert.Contains("teacher cache built in", single.Out);
        Assert.Contains("examples/s", single.Out);
        Assert.Equal(96, CacheManifest.TryRead(Dir("single"))!.Count);

        for (int i = 0; i < 3; i++)
        {
            var shard = Cli("cache", "build", _recipe, "--shard", $"{i}/3", "--set", "distill.cache.dir=sharded");
            Assert.True(shard.Exit == 0, shard.Err + shard.Out);
            Assert.Contains($"shard {i}/3 written to", shard.Out);
        }
        Assert.False(Directory.Exists(Dir("sharded")));
        var merge = Cli("cache", "merge", _recipe, "--set", "distill.cache.dir=sharded");
        Assert.True(merge.Exit == 0, merge.Err + merge.Out);
        AssertSameCache(Dir("single"), Dir("sharded"));

        // A run that finds complete shards (and no cache) merges them, then trains on the cache.
        for (int i = 0; i < 3; i++)
            Assert.Equal(0, Cli("cache", "build", _recipe, "--shard", $"{i}/3", "--set", "distill.cache.dir=for-run").Exit);
        var run = Cli("run", _recipe, "--out", Dir("run"), "--set", "distill.cache.dir=for-run");
        Assert.True(run.Exit == 0, run.Err + run.Out);
        Assert.Contains("merged", run.Out);
        AssertSameCache(Dir("single"), Dir("for-run"));
        string summary = File.ReadAllText(Path.Combine(Dir("run"), "summary.json"));
        Assert.Contains("\"teacher_cache\": \"built\"", summary);
    }

    [Fact]
    public void AShardOutOfRangeAMissingShardAndNoCacheDirAreExit2WithNothingWritten()
    {
        var range = Cli("cache", "build", _recipe, "--shard", "3/3");
        Assert.Equal(2, range.Exit);
        Assert.Contains("0 to 2", range.Err);
        var tooMany = Cli("cache", "build", _recipe, "--shard", "0/4");
        Assert.Equal(2, tooMany.Exit);
        Assert.Contains("at most 3 shards", tooMany.Err);
        Assert.False(Directory.Exists(Dir("cache.shards")));
        Assert.False(Directory.Exists(Dir("cache")));

        Assert.Equal(0, Cli("cache", "build", _recipe, "--shard", "0/3").Exit);
        Assert.Equal(0, Cli("cache", "build", _recipe, "--shard", "2/3").Exit);
        var missing = Cli("cache", "merge", _recipe);
        Assert.Equal(2, missing.Exit);
        Assert.Contains("1 of 3 shards missing (1/3)", missing.Err);
        Assert.False(Directory.Exists(Dir("cache")));

        var noDir = Cli("cache", "build", _recipe, "--set", "distill.cache.dir=null");
        Assert.Equal(2, noDir.Exit);
        Assert.Contains("distill.cache.dir is not set", noDir.Err);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
