using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Distill.Checkpoints;

/// <summary>
/// <c>checksums.json</c> of a checkpoint folder: the SHA-256 of every other file in it, written last into the temp
/// folder before it is renamed into place, so a complete checkpoint always carries them. Reading verifies them: flipped
/// bytes in a tensor file would otherwise load silently as other weights. A folder without the file was written before
/// checksums existed and is read unverified.
/// <c>{"format": "distill-checksums/1", "sha256": {"model.safetensors": "&lt;hex&gt;", ...}}</c>
/// </summary>
public static class CheckpointChecksums
{
    public const string FileName = "checksums.json";

    private const string Format = "distill-checksums/1";

    /// <summary>Hashes every file of <paramref name="dir"/> (not folders below it) into its <c>checksums.json</c>.</summary>
    public static void Write(string dir)
    {
        var sums = new JsonObject();
        foreach (var file in Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal))
            if (file != FileName) sums[file!] = Sha256(Path.Combine(dir, file!));
        var root = new JsonObject { ["format"] = Format, ["sha256"] = sums };
        File.WriteAllText(Path.Combine(dir, FileName), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Checks every file <c>checksums.json</c> lists; false when the folder has none (an older checkpoint). A missing
    /// or changed file is an <see cref="InvalidInputException"/> naming it.
    /// </summary>
    public static bool Verify(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return false;
        JsonObject sums;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
            if ((string?)root?["format"] != Format || root["sha256"] is not JsonObject s)
                throw new InvalidInputException(path, $"{path}: not a {Format} file; the checkpoint's checksums are damaged.");
            sums = s;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidInputException(path, $"{path}: not valid JSON ({e.Message}); the checkpoint's checksums are damaged.", e);
        }
        foreach (var (name, value) in sums)
        {
            if (name != Path.GetFileName(name) || name is "." or ".." || value is not JsonValue v || !v.TryGetValue<string>(out var expected))
                throw new InvalidInputException(path, $"{path}: entry '{name}' is not a file name with a SHA-256 string; the checkpoint's checksums are damaged.");
            string file = Path.Combine(dir, name);
            if (!File.Exists(file))
                throw new InvalidInputException(file, $"{file} is missing (it is listed in {FileName}): the checkpoint {dir} is incomplete.");
            string actual = Sha256(file);
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new InvalidInputException(file,
                    $"{file} does not match the SHA-256 recorded in {path} ({expected[..Math.Min(12, expected.Length)]}…, the file now {actual[..12]}…): the file is damaged.");
        }
        return true;
    }

    /// <summary>Lower-case hex SHA-256 of a file.</summary>
    public static string Sha256(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }
}
