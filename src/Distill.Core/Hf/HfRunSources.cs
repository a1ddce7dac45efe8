using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Hf;

/// <summary>
/// <c>&lt;run&gt;/hf_sources.json</c>: the HF folders a run's recipe named (absolute paths), written at the start of the
/// run so that <c>distill export</c> can copy tokenizer/processor files next to an exported model without the recipe.
/// </summary>
public sealed record HfRunSources
{
    public const string FileName = "hf_sources.json";

    /// <summary><c>teacher.pretrained</c>.</summary>
    [JsonPropertyName("teacher_pretrained")] public string? TeacherPretrained { get; init; }

    /// <summary><c>student.pretrained</c>.</summary>
    [JsonPropertyName("student_pretrained")] public string? StudentPretrained { get; init; }

    /// <summary><c>data.tokenizer</c>.</summary>
    [JsonPropertyName("data_tokenizer")] public string? DataTokenizer { get; init; }

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes the file into <paramref name="runDir"/> (atomically).</summary>
    public void Write(string runDir)
    {
        string path = Path.Combine(runDir, FileName), tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, Options));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads the file of <paramref name="runDir"/>; null when the run recorded none.</summary>
    public static HfRunSources? Read(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<HfRunSources>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new HfFolderException($"{path}: not valid JSON ({e.Message})."); }
    }
}
