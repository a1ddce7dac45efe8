using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Stages.Results;

namespace Distill.Runs;

/// <summary>
/// <c>&lt;run&gt;/summary.json</c>, a contract scripts rely on (README "summary.json"):
/// <c>{"recipe": path, "recipe_sha256": hex, "stages": [{"name", "kind", "metrics": {"accuracy", "macro_f1", "loss", ...},
/// "metrics_by_split": {"&lt;split&gt;": {...}, ...}, "params", "model_bytes", "wall_seconds", "steps", ...stage-specific keys}, ...],
/// each stage entry a <see cref="StageResult"/> record of its kind (serialised with <see cref="StageResultJson.Options"/>),
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
        var stages = new JsonArray([.. _stages.Select(st => JsonSerializer.SerializeToNode(st, StageResultJson.Options))]);
        var root = new JsonObject { ["recipe"] = RecipePath, ["recipe_sha256"] = RecipeSha256 };
        if (ResumeSha256 is not null) root["resume_sha256"] = ResumeSha256;
        if (ResumeChanges.Count > 0) root["resume_changes"] = new JsonArray(ResumeChanges.Select(c => (JsonNode)JsonValue.Create(c)).ToArray());
        if (Labels is { } labels) root["labels"] = new JsonArray([.. labels.Select(l => JsonValue.Create(l))]);
        root["stages"] = stages;
        return root;
    }

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
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or InvalidCastException or FormatException or NullReferenceException or KeyNotFoundException)
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
        foreach (var node in root["stages"]?.AsArray() ?? [])
            summary.Add(node.Deserialize<StageResult>(StageResultJson.Options) ?? throw new InvalidOperationException("a stage entry is null"));
        return summary;
    }
}
