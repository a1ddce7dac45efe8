using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Caching;

/// <summary><c>manifest.json</c> of a teacher-output cache folder: what was stored, how, and the hashes it was built from.
/// Written last, after every data file is complete, so a folder with a manifest is a finished cache.</summary>
public sealed record CacheManifest
{
    public const string FileName = "manifest.json";
    public const string FormatName = "distill-teacher-cache";

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = TeacherCacheKey.FormatVersion;
    public required int Count { get; init; }
    public required CacheEncoding Encoding { get; init; }
    public int? TopK { get; init; }
    public required TeacherCacheKey Key { get; init; }
    public required List<CacheEntry> Entries { get; init; }

    /// <summary>Length of the teacher's <c>HiddenStates</c> (layers + 1) and <c>Attentions</c> lists, of which the entries hold some.</summary>
    public int HiddenStates { get; init; }

    public int Attentions { get; init; }
    public double BuildSeconds { get; init; }

    /// <summary>Examples per second of the teacher pass that built it (the build's examples over its seconds; a merged
    /// cache: all examples over the shards' summed seconds); null in caches built before it was recorded.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? BuildExamplesPerSecond { get; init; }

    /// <summary>Set in a shard's manifest only (<see cref="CacheShards"/>): which shard, and its first example.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public CacheShard? Shard { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? ShardFrom { get; init; }

    /// <summary>Examples of the whole training set a shard is part of.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? ShardOfExamples { get; init; }
    public string CreatedUtc { get; init; } = DateTime.UtcNow.ToString("O");

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public void Write(string dir) => File.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, Json));

    /// <summary>The manifest of <paramref name="dir"/>, or null when there is none; a corrupt one is an error naming the file.</summary>
    public static CacheManifest? TryRead(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var m = JsonSerializer.Deserialize<CacheManifest>(File.ReadAllText(path), Json);
            return m is { Format: FormatName } ? m : throw new JsonException("not a teacher-cache manifest");
        }
        catch (JsonException e)
        {
            throw new TeacherCacheException($"{path}: unreadable teacher-cache manifest ({e.Message}). Delete the folder {dir} to rebuild the cache.");
        }
    }
}
