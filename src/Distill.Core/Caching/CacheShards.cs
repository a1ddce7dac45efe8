using Distill.Data;
using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Caching;

/// <summary>
/// A teacher cache built by N processes (<c>distill cache build --shard i/N</c>), merged by <c>distill cache merge</c> or
/// by the run that finds the shards. Shard i is a folder <c>&lt;cache dir&gt;.shards/shard-i-of-N/</c> holding the records
/// of its examples (whole build windows, <see cref="CacheShard.Range"/>) in the cache's own file layout, with a manifest
/// naming the shard; it is written beside and renamed into place, so a shard folder is complete. Merging checks that all
/// N shards are there with one key, count and layout, concatenates each file in shard order (records are in example
/// order, so the result is byte for byte the single-process build's data), writes the manifest last and renames the
/// folder into place; nothing is written when a check fails.
/// </summary>
public static class CacheShards
{
    /// <summary>The folder of the shards of the cache in <paramref name="cacheDir"/>.</summary>
    public static string Folder(string cacheDir) => Path.GetFullPath(cacheDir).TrimEnd(Path.DirectorySeparatorChar) + ".shards";

    /// <summary>Builds shard <paramref name="shard"/> of the cache of <paramref name="train"/> into <see cref="Folder"/>; returns its folder.</summary>
    public static string Build(string cacheDir, CacheShard shard, TeacherCacheKey key, DistillModel teacher, IDataset train,
        TeacherNeeds needs, TeacherCacheSpec spec, CacheBuildSettings settings, Device device)
    {
        var (from, to) = shard.Range(train.Count, settings.WindowExamples);
        string root = Folder(cacheDir), final = Path.Combine(root, shard.FolderName), tmp = $"{final}.building-{Environment.ProcessId}";
        Directory.CreateDirectory(root);
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        try
        {
            var written = TeacherCacheBuilder.Build(tmp, teacher, train, needs, spec, settings, from, to, device, $"shard {shard}: ");
            new CacheManifest
            {
                Count = to - from, Encoding = spec.Encoding, TopK = spec.TopK, Key = key, Entries = written.Entries,
                HiddenStates = written.HiddenStates, Attentions = written.Attentions, BuildSeconds = written.Seconds,
                BuildExamplesPerSecond = written.Seconds > 0 ? (to - from) / written.Seconds : null,
                Shard = shard, ShardFrom = from, ShardOfExamples = train.Count,
            }.Write(tmp);
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(tmp, final);
            return final;
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            throw;
        }
    }

    /// <summary>True when <see cref="Folder"/> of <paramref name="cacheDir"/> holds at least one finished shard.</summary>
    public static bool Any(string cacheDir) =>
        Directory.Exists(Folder(cacheDir)) && Directory.EnumerateDirectories(Folder(cacheDir), "shard-*").Any(d => !d.Contains(".building-", StringComparison.Ordinal));

    /// <summary>
    /// Merges the shards into <paramref name="cacheDir"/> when they are complete and were built for <paramref name="key"/>
    /// (null = whatever key they share, as <c>distill cache merge</c> without the teacher); throws a
    /// <see cref="TeacherCacheException"/> naming the problem otherwise, leaving <paramref name="cacheDir"/> as it was.
    /// </summary>
    public static CacheManifest Merge(string cacheDir, TeacherCacheKey? key, int? examples)
    {
        string root = Folder(cacheDir);
        var shards = Directory.Exists(root)
            ? Directory.EnumerateDirectories(root, "shard-*").Where(d => !d.Contains(".building-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList()
            : [];
        if (shards.Count == 0)
            throw new TeacherCacheException($"{root}: no teacher-cache shards to merge; build them with 'distill cache build <recipe> --shard i/N'.");
        var manifests = shards.Select(d => (Dir: d, Manifest: CacheManifest.TryRead(d) ?? throw new TeacherCacheException(
            $"{d}: a shard folder without {CacheManifest.FileName} (not a finished shard); delete it and build that shard again."))).ToList();
        foreach (var (dir, m) in manifests)
            if (m.Shard is null || m.ShardFrom is null || m.ShardOfExamples is null || Path.GetFileName(dir) != m.Shard.FolderName)
                throw new TeacherCacheException($"{dir}: its manifest does not describe shard {Path.GetFileName(dir)}; delete it and build that shard again.");
        var counts = manifests.Select(m => m.Manifest.Shard!.Count).Distinct().ToList();
        if (counts.Count > 1)
            throw new TeacherCacheException(
                $"{root} holds shards of different builds: {string.Join(", ", counts.Select(n => $"{manifests.Count(m => m.Manifest.Shard!.Count == n)} of {n}"))} shards. " +
                "Delete the shards of the old build (or the whole folder) and build again with one N.");
        int n = counts[0];
        var missing = Enumerable.Range(0, n).Except(manifests.Select(m => m.Manifest.Shard!.Index)).ToList();
        if (missing.Count > 0)
            throw new TeacherCacheException(
                $"{root}: {missing.Count} of {n} shards missing ({string.Join(", ", missing.Select(i => $"{i}/{n}"))}); " +
                $"build them with 'distill cache build <recipe> --shard i/{n}' and merge again.");
        var first = manifests[0].Manifest;
        foreach (var (dir, m) in manifests)
        {
            var diff = m.Key.Differences(first.Key).ToList();
            if (m.Version != first.Version) diff.Add("cache format version");
            if (diff.Count > 0)
                throw new TeacherCacheException(
                    $"{dir}: built from another teacher, data or layout than {manifests[0].Dir} (differs: {string.Join(", ", diff)}). " +
                    "Build every shard with the same recipe, teacher and data.");
            if (m.Encoding != first.Encoding || m.TopK != first.TopK || m.HiddenStates != first.HiddenStates || m.Attentions != first.Attentions
                || m.ShardOfExamples != first.ShardOfExamples || !SameEntries(m.Entries, first.Entries))
                throw new TeacherCacheException($"{dir}: its stored outputs differ from {manifests[0].Dir}'s; build every shard with the same recipe.");
        }
        if (key is not null && first.Key.Differences(key) is { Count: > 0 } stale)
            throw new TeacherCacheException(
                $"{root}: the shards were built from another teacher, data or layout than this run's (differs: {string.Join(", ", stale)}); " +
                "delete them, or build them again for this recipe.");
        int total = first.ShardOfExamples!.Value;
        if (examples is { } expected && expected != total)
            throw new TeacherCacheException($"{root}: the shards cover {total} examples, this run trains on {expected}; build them again for this recipe.");
        int next = 0;
        foreach (var (dir, m) in manifests)
        {
            if (m.ShardFrom != next)
                throw new TeacherCacheException($"{dir}: starts at example {m.ShardFrom}, but the shards before it end at {next}; build the shards again with one N.");
            next += m.Count;
        }
        if (next != total)
            throw new TeacherCacheException($"{root}: the shards hold {next} examples of {total}; build them again.");

        string full = Path.GetFullPath(cacheDir).TrimEnd(Path.DirectorySeparatorChar), tmp = $"{full}.merging-{Environment.ProcessId}";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        try
        {
            var files = first.Entries.Select(e => e.File).ToList();
            if (first.Entries.Any(e => e.TokenAxes is not null)) files.Add(TeacherCache.TokenLengthsFile);
            foreach (var file in files)
            {
                using var output = new FileStream(Path.Combine(tmp, file), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                foreach (var (dir, _) in manifests)
                {
                    string part = Path.Combine(dir, file);
                    if (!File.Exists(part)) throw new TeacherCacheException($"{part}: missing from its shard; delete {dir} and build that shard again.");
                    using var input = File.OpenRead(part);
                    input.CopyTo(output);
                }
            }
            double seconds = manifests.Sum(m => m.Manifest.BuildSeconds);
            var merged = new CacheManifest
            {
                Count = total, Encoding = first.Encoding, TopK = first.TopK, Key = first.Key, Entries = first.Entries,
                HiddenStates = first.HiddenStates, Attentions = first.Attentions, BuildSeconds = seconds,
                BuildExamplesPerSecond = seconds > 0 ? total / seconds : null,
            };
            merged.Write(tmp);
            TeacherCache.Open(tmp).Dispose(); // sizes checked against the manifest before it goes into place
            TeacherCache.Replace(full, tmp);
            return merged;
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            throw;
        }
    }

    private static bool SameEntries(List<CacheEntry> a, List<CacheEntry> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Name == p.Second.Name && p.First.File == p.Second.File && p.First.Shape.SequenceEqual(p.Second.Shape)
            && (p.First.TokenAxes ?? []).SequenceEqual(p.Second.TokenAxes ?? []) && p.First.Parts.Count == p.Second.Parts.Count
            && p.First.Parts.Zip(p.Second.Parts).All(q => q.First.Name == q.Second.Name && q.First.DType == q.Second.DType && q.First.Shape.SequenceEqual(q.Second.Shape)));
}
