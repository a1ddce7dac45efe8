using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Models;
using Distill.Models.Design;

namespace Distill.Design;

/// <summary>
/// Latency measurements of one device fingerprint, stored as JSON in <c>&lt;dir&gt;/&lt;fingerprint hash&gt;.json</c>
/// (default dir <c>$XDG_CACHE_HOME/distill/profiles</c>, else <c>~/.cache/distill/profiles</c>). An entry is keyed by
/// the SHA-256 of the family, the full model config and the input shapes, so any config change re-measures. Writes are
/// atomic (temporary file, then rename) and merge with entries another process saved meanwhile.
/// <para>File format: <c>{"format": "distill-latency-profile/1", "fingerprint": {...}, "entries": {key: ProfileEntry}}</c>.</para>
/// </summary>
public sealed class ProfileCache
{
    public const string Format = "distill-latency-profile/1";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly Dictionary<string, ProfileEntry> _entries;

    private ProfileCache(string path, DeviceFingerprint fingerprint, Dictionary<string, ProfileEntry> entries)
    {
        FilePath = path;
        Fingerprint = fingerprint;
        _entries = entries;
    }

    public string FilePath { get; }

    public DeviceFingerprint Fingerprint { get; }

    public int Count => _entries.Count;

    /// <summary>Entries read from disk when the cache was opened (before this run added any).</summary>
    public int LoadedCount { get; private init; }

    public static string DefaultDirectory
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "distill", "profiles");
        }
    }

    /// <summary>Opens (does not create) the profile of <paramref name="fingerprint"/> in <paramref name="directory"/>.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a profile of this fingerprint.</exception>
    public static ProfileCache Open(string directory, DeviceFingerprint fingerprint)
    {
        string path = Path.Combine(Path.GetFullPath(directory), fingerprint.Hash + ".json");
        var entries = File.Exists(path) ? Read(path, fingerprint) : new Dictionary<string, ProfileEntry>(StringComparer.Ordinal);
        return new ProfileCache(path, fingerprint, entries) { LoadedCount = entries.Count };
    }

    /// <summary>The cache key of a model config at an input shape (see <see cref="DesignFamily.InputsText"/>) in a runtime (<see cref="DeploymentShape.RuntimeText"/>).</summary>
    public static string Key(string family, IModelConfig config, string inputs, string runtime = "torchsharp")
    {
        string text = family + "\n" + JsonSerializer.Serialize(config, config.GetType()) + "\n" + inputs + "\n" + runtime;
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..24];
    }

    public bool TryGet(string key, out ProfileEntry entry) => _entries.TryGetValue(key, out entry!);

    public void Put(string key, ProfileEntry entry) => _entries[key] = entry;

    /// <summary>Writes the profile atomically, keeping entries that another process added to the file since it was read.</summary>
    public void Save()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        var merged = new Dictionary<string, ProfileEntry>(StringComparer.Ordinal);
        if (File.Exists(FilePath))
        {
            try
            {
                foreach (var (k, v) in Read(FilePath, Fingerprint)) merged[k] = v;
            }
            catch (InvalidDataException)
            {
                // Unreadable now (another writer's bug or a manual edit): ours replaces it rather than failing the run.
            }
        }
        foreach (var (k, v) in _entries) merged[k] = v;
        var root = new JsonObject
        {
            ["format"] = Format,
            ["fingerprint"] = JsonSerializer.SerializeToNode(Fingerprint),
            ["entries"] = JsonSerializer.SerializeToNode(merged.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value)),
        };
        string tmp = $"{FilePath}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(tmp, root.ToJsonString(Indented));
        File.Move(tmp, FilePath, overwrite: true);
    }

    private static Dictionary<string, ProfileEntry> Read(string path, DeviceFingerprint expected)
    {
        string fix = $"delete {path} to measure again, or set the design stage's 'profile:' to another folder";
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path))?.AsObject()
                   ?? throw new InvalidDataException($"{path}: the file holds JSON null, not a latency profile; {fix}.");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not a valid latency profile ({e.Message}); {fix}.", e);
        }
        if ((string?)root["format"] is not Format)
            throw new InvalidDataException($"{path}: 'format' is '{root["format"]}', expected '{Format}'; {fix}.");
        DeviceFingerprint? found;
        Dictionary<string, ProfileEntry>? entries;
        try
        {
            found = root["fingerprint"]?.Deserialize<DeviceFingerprint>();
            entries = root["entries"]?.Deserialize<Dictionary<string, ProfileEntry>>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: malformed profile at {(e as JsonException)?.Path ?? "entries"} ({e.Message}); {fix}.", e);
        }
        if (found != expected)
            throw new InvalidDataException(
                $"{path}: holds measurements of another device ({found?.ToString() ?? "no fingerprint"}), not of this one ({expected}); {fix}.");
        if (entries is null) throw new InvalidDataException($"{path}: 'entries' is missing; {fix}.");
        foreach (var (key, entry) in entries)
            if (entry?.Latency is not { MedianMs: > 0 } || !double.IsFinite(entry.Latency.MedianMs))
                throw new InvalidDataException($"{path}: entries.{key} has no positive latency.median_ms; {fix}.");
        return new Dictionary<string, ProfileEntry>(entries, StringComparer.Ordinal);
    }
}
