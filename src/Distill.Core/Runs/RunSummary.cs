using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Stages;
using Distill.Training;

namespace Distill.Runs;

/// <summary>
/// <c>&lt;run&gt;/summary.json</c>, a contract scripts rely on (README "summary.json"):
/// <c>{"recipe": path, "recipe_sha256": hex, "stages": [{"name", "kind", "metrics": {"accuracy", "macro_f1", "loss", ...},
/// "metrics_by_split": {"&lt;split&gt;": {...}, ...}, "params", "model_bytes", "wall_seconds", "steps", ...stage-specific keys}, ...],
/// "labels": [class names]}</c>. <c>metrics</c> are the first evaluation split's; <c>metrics_by_split</c> (every
/// evaluation split, in the recipe's order) is written for the stages that evaluate the run's splits; <c>labels</c>
/// when the dataset knows its class names.
/// Rewritten atomically after every stage; a resumed run reads it to know which stages are done.
/// </summary>
public sealed class RunSummary(string recipePath, string recipeSha256)
{
    public const string FileName = "summary.json";

    private readonly List<StageResult> _stages = [];

    public string RecipePath { get; } = recipePath;

    public string RecipeSha256 { get; } = recipeSha256;

    /// <summary><see cref="RecipeHash.ComputeForResume"/> of the start; null in summaries written before it existed.</summary>
    public string? ResumeSha256 { get; init; }

    /// <summary>The resume-changeable <c>--set</c> overrides of each resume that changed them (<c>resume_changes</c>).</summary>
    public List<string> ResumeChanges { get; } = [];

    public IReadOnlyList<StageResult> Stages => _stages;

    /// <summary>The dataset's class names in label order (recorded so that labels collected from the training split are known later); null = not recorded.</summary>
    public IReadOnlyList<string>? Labels { get; set; }

    public void Add(StageResult result) => _stages.Add(result);

    public JsonObject ToJson()
    {
        var stages = new JsonArray();
        foreach (var s in _stages)
        {
            var metrics = new JsonObject();
            foreach (var (k, v) in s.Metrics) metrics[k] = Number(v);
            var o = new JsonObject
            {
                ["name"] = s.Name,
                ["kind"] = s.Kind,
                ["metrics"] = metrics,
            };
            if (s.MetricsBySplit is { } bySplit)
            {
                var splits = new JsonObject();
                foreach (var split in bySplit)
                {
                    var m = new JsonObject();
                    foreach (var (k, v) in split.Metrics) m[k] = Number(v);
                    splits[split.Split] = m;
                }
                o["metrics_by_split"] = splits;
            }
            o["params"] = s.Params;
            o["model_bytes"] = s.ModelBytes;
            o["wall_seconds"] = Math.Round(s.WallSeconds, 3);
            o["steps"] = s.Steps;
            foreach (var (k, v) in s.Extra) o[k] = v is double d ? Number(d) : JsonSerializer.SerializeToNode(v);
            stages.Add(o);
        }
        var root = new JsonObject { ["recipe"] = RecipePath, ["recipe_sha256"] = RecipeSha256 };
        if (ResumeSha256 is not null) root["resume_sha256"] = ResumeSha256;
        if (ResumeChanges.Count > 0) root["resume_changes"] = new JsonArray(ResumeChanges.Select(c => (JsonNode)JsonValue.Create(c)).ToArray());
        if (Labels is { } labels) root["labels"] = new JsonArray([.. labels.Select(l => JsonValue.Create(l))]);
        root["stages"] = stages;
        return root;
    }

    // JSON has no NaN: a metric that does not exist yet is null.
    private static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    public void Write(string runDir)
    {
        string path = Path.Combine(runDir, FileName), tmp = path + ".tmp";
        File.WriteAllText(tmp, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads a summary written by <see cref="Write"/> (for <c>--resume</c>).</summary>
    public static RunSummary Read(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        try
        {
            return Parse(path);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or InvalidCastException or FormatException or NullReferenceException or KeyNotFoundException)
        {
            // It is rewritten whole after every stage, so damage means a hand edit or a broken disk. JsonNode's casts
            // throw NullReferenceException for a key that is missing, InvalidOperationException for one of another type.
            throw new InvalidInputException(path,
                $"{path}: not a readable run summary ({e.Message}). Restore it from a copy; or delete it and --resume, which then reruns " +
                "every stage, each from its last checkpoint (a completed training stage finishes at once).", e);
        }
    }

    private static RunSummary Parse(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidOperationException("the file holds null");
        var summary = new RunSummary((string?)root["recipe"] ?? "", (string?)root["recipe_sha256"] ?? "")
        {
            ResumeSha256 = (string?)root["resume_sha256"],
        };
        foreach (var change in root["resume_changes"]?.AsArray() ?? []) summary.ResumeChanges.Add((string)change!);
        if (root["labels"] is JsonArray labels) summary.Labels = [.. labels.Select(l => (string)l!)];
        string[] standard = ["name", "kind", "metrics", "metrics_by_split", "params", "model_bytes", "wall_seconds", "steps"];
        foreach (var node in root["stages"]?.AsArray() ?? [])
        {
            var o = node!.AsObject();
            summary.Add(new StageResult
            {
                Name = (string)o["name"]!,
                Kind = (string)o["kind"]!,
                Metrics = o["metrics"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value is null ? double.NaN : (double)kv.Value),
                MetricsBySplit = o["metrics_by_split"] is JsonObject bySplit
                    ? [.. bySplit.Select(kv => new SplitMetrics(kv.Key,
                        kv.Value!.AsObject().ToDictionary(m => m.Key, m => m.Value is null ? double.NaN : (double)m.Value)))]
                    : null,
                Params = (long)o["params"]!,
                ModelBytes = (long)o["model_bytes"]!,
                WallSeconds = (double)o["wall_seconds"]!,
                Steps = (long?)o["steps"] ?? 0,
                Extra = o.Where(kv => !standard.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => (object)(kv.Value?.DeepClone() ?? JsonValue.Create((string?)null)!)),
            });
        }
        return summary;
    }
}
