using System.Text.Json;
using System.Text.RegularExpressions;
using Distill.Bench;
using Distill.Data;
using Distill.Losses;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Recipes;
using Distill.Tests;
using TorchSharp;
using Xunit;

namespace Distill.Bench.Tests;

/// <summary>
/// The job JSON is the contract between Distill's orchestrator and bench/torch_peer.py: every key the peer reads
/// (found in the script's text, nothing executed) must be one the orchestrator writes, under the same parent.
/// </summary>
public partial class BenchJobContractTests
{
    private static readonly string PeerText = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "bench", "torch_peer.py"));

    [GeneratedRegex(@"\b(?<var>[a-z_]+)(?:(?<get>\.get\()|\[)""(?<key>[a-z_0-9]+)""")]
    private static partial Regex KeyAccess();

    /// <summary>(variable, key, required) for every <c>var["key"]</c> and <c>var.get("key"</c> in the peer.</summary>
    private static List<(string Var, string Key, bool Required)> PeerReads() =>
        KeyAccess().Matches(PeerText).Select(m => (m.Groups["var"].Value, m.Groups["key"].Value, !m.Groups["get"].Success)).Distinct().ToList();

    private static JsonElement JobJson(BenchWorkload w)
    {
        var init = ParamInit.Seeded(3);
        var teacherConfig = w.TeacherConfig is BertConfig bt ? bt with { VocabSize = 200 } : w.TeacherConfig;
        var studentConfig = w.StudentConfig is BertConfig bs ? bs with { VocabSize = 200 } : w.StudentConfig;
        var teacher = ParamInit.Build(init, () => ModelRegistry.Default.Get(w.TeacherFamily).Build(teacherConfig));
        var student = ParamInit.Build(init, () => ModelRegistry.Default.Get(w.StudentFamily).Build(studentConfig));
        var data = w.Dataset == "sst2"
            ? new BenchData(BenchTokenDataset.Key, "/tmp/tokens-0", [], [], null, null, w.EvalSplit, w.MaxLength)
            : new BenchData(w.Dataset, "/data/" + w.Dataset, w.Mean, w.Std, w.TrainLimit, null, w.EvalSplit);
        var shapes = ShapeProbe.Measure(student, teacher, BenchWorker.DataKind(data.Dataset).Inputs(BenchWorker.DataSpecOf(data)));
        var terms = BenchRunner.Terms(ParamInit.Build(init, () => w.Terms.Select(t => LossRegistry.Default.Create(t, shapes)).ToList()));
        var job = BenchRunner.Job(w, 2, 42, 20, data, terms, "/tmp/w.safetensors", "/tmp/o.bin", "/tmp/e.bin") with { Variant = "cache", CacheDir = "/tmp/c" };
        return JsonDocument.Parse(JsonSerializer.Serialize(job, BenchJob.Json)).RootElement.Clone();
    }

    /// <summary>The JSON objects the peer's variables hold, for one job (absent ones left out).</summary>
    private static Dictionary<string, JsonElement> Objects(JsonElement job)
    {
        var objects = new Dictionary<string, JsonElement>
        {
            ["job"] = job, ["data"] = job.GetProperty("data"), ["train_cfg"] = job.GetProperty("train"), ["terms"] = job.GetProperty("terms"),
            ["st"] = job.GetProperty("terms").GetProperty("soft_target"), ["spec"] = job.GetProperty("teacher"),
        };
        foreach (var name in new[] { "hint", "hidden", "attention" })
            if (job.GetProperty("terms").TryGetProperty(name, out var term)) objects[name] = term;
        return objects;
    }

    /// <summary>The peer's names for the job and its parts (<c>cfg</c>: a model config).</summary>
    private static readonly HashSet<string> JobVariables = ["job", "data", "train_cfg", "terms", "st", "hint", "hidden", "attention", "spec", "cfg"];

    private static IEnumerable<string> Keys(JsonElement obj) => obj.EnumerateObject().Select(p => p.Name);

    [Fact]
    public void EveryKeyThePeerReadsIsWritten()
    {
        var reads = PeerReads();
        Assert.Contains(reads, r => r == ("cfg", "vocab_size", true)); // the pattern finds the accesses at all
        Assert.Contains(reads, r => r == ("terms", "hidden", false));
        var jobs = BenchWorkload.All.Select(JobJson).ToList();
        var objects = jobs.Select(Objects).ToList();
        var configKeys = jobs.SelectMany(j => Keys(j.GetProperty("teacher").GetProperty("config")).Concat(Keys(j.GetProperty("student").GetProperty("config")))).ToHashSet();

        var problems = new List<string>();
        foreach (var (variable, key, required) in reads)
        {
            if (!JobVariables.Contains(variable)) continue; // safetensors headers, batches, phases: not the job
            if (variable == "cfg")
            {
                if (!configKeys.Contains(key)) problems.Add($"cfg[\"{key}\"]: no model config of any workload has this key");
                continue;
            }
            var holders = objects.Where(o => o.ContainsKey(variable)).Select(o => o[variable]).ToList();
            if (holders.Count == 0) { problems.Add($"{variable}: no job has this object"); continue; }
            bool everywhere = holders.All(h => h.TryGetProperty(key, out _)), somewhere = holders.Any(h => h.TryGetProperty(key, out _));
            if (required ? !everywhere : !somewhere)
                problems.Add($"{variable}{(required ? "[" : ".get(")}\"{key}\": {(required ? "missing in some job" : "in no job")}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheTermsAndDataOfTheNewWorkloadsAreSpelledOut()
    {
        var bert = JobJson(BenchWorkload.BertSst2);
        var terms = bert.GetProperty("terms");
        Assert.Equal("[[1,2]]", terms.GetProperty("hidden").GetProperty("pairs").GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
        Assert.Equal("kl", terms.GetProperty("attention").GetProperty("loss").GetString());
        Assert.False(terms.TryGetProperty("hint", out _));
        Assert.Equal(BenchTokenDataset.Key, bert.GetProperty("data").GetProperty("dataset").GetString());
        Assert.Equal("dev", bert.GetProperty("data").GetProperty("eval_split").GetString());
        Assert.Equal(64, bert.GetProperty("data").GetProperty("max_length").GetInt32());
        Assert.Equal("linear", bert.GetProperty("train").GetProperty("schedule").GetString());
        Assert.False(bert.GetProperty("train").TryGetProperty("grad_clip", out _)); // the recipe does not clip
        var studentConfig = bert.GetProperty("student").GetProperty("config");
        Assert.Equal(0.0, studentConfig.GetProperty("hidden_dropout_prob").GetDouble());
        Assert.Equal(64, studentConfig.GetProperty("hidden_size").GetInt32());

        var vit = JobJson(BenchWorkload.VitCifar10);
        Assert.Equal("cifar10", vit.GetProperty("data").GetProperty("dataset").GetString());
        Assert.Equal([0.5, 0.5, 0.5], vit.GetProperty("data").GetProperty("mean").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(4, vit.GetProperty("teacher").GetProperty("config").GetProperty("num_hidden_layers").GetInt32());
        Assert.Equal("cosine", vit.GetProperty("train").GetProperty("schedule").GetString());
    }

    [Fact]
    public void AJobRoundTripsThroughItsJson()
    {
        var json = JobJson(BenchWorkload.BertSst2).GetRawText();
        var job = JsonSerializer.Deserialize<BenchJob>(json, BenchJob.Json)!;
        Assert.Equal("bert", job.Teacher.Family);
        Assert.Equal([[1, 2]], job.Terms.Attention!.Pairs);
        Assert.Equal(json, JsonSerializer.Serialize(job, BenchJob.Json));
        var config = (BertConfig)job.Student.Config.Deserialize(ModelRegistry.Default.Get("bert").ConfigType)!;
        Assert.Equal(BenchWorkload.BertSst2.StudentConfig, config);
    }
}
