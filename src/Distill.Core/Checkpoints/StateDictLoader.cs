using System.Text;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Checkpoints;

/// <summary>
/// Copies checkpoint tensors into a model's parameters and buffers, strictly. TorchSharp's own
/// <c>load_state_dict(strict: false)</c> silently loads nothing when names differ; this loader instead checks every key
/// first, and either throws a <see cref="StateDictMismatchException"/> listing all problems (copying nothing) or copies
/// everything (<c>copy_</c> under <c>no_grad</c>, converting to the model's dtype) and returns a <see cref="LoadReport"/>.
/// <para>
/// Key renames are accepted only where HuggingFace <c>from_pretrained</c> itself renames, and only when the model lacks
/// the checkpoint's name and has the renamed one (a checkpoint holding both names is an ambiguity error):
/// <list type="bullet">
/// <item>legacy LayerNorm names: a final <c>gamma</c> → <c>weight</c>, <c>beta</c> → <c>bias</c>;</item>
/// <item>weight norm: <c>weight_g</c>/<c>weight_v</c> ↔ <c>parametrizations.weight.original0</c>/<c>original1</c>
/// (torch ≥ 2.1 names; the wav2vec2 positional convolution);</item>
/// <item>the base-model prefix (<see cref="LoadOptions.BasePrefix"/>, e.g. <c>bert.</c>) added when a base checkpoint is
/// loaded into a head model, stripped when a head checkpoint is loaded into a base model (HF's
/// <c>base_model_prefix</c> logic).</item>
/// </list>
/// Parts named in <see cref="LoadOptions.NewParts"/> (BERT's pooler) may be absent as a whole and are reported as new.
/// Head changes (keys of the model outside the base prefix absent or re-shaped, e.g. num_labels changed) need
/// <see cref="LoadOptions.AllowNewHead"/> and are reported as newly initialised. A shape mismatch on any other key is an
/// error naming the key, the model's shape and the checkpoint's shape.
/// </para>
/// </summary>
public static class StateDictLoader
{
    private const string GammaBetaRule = "legacy LayerNorm gamma/beta -> weight/bias";
    private const string WeightNormRule = "weight norm weight_g/weight_v <-> parametrizations.weight.original0/original1";

    /// <summary>Loads <paramref name="source"/> into <paramref name="model"/>; see the class summary for the rules.</summary>
    public static LoadReport Load(nn.Module model, IReadOnlyDictionary<string, Tensor> source, LoadOptions? options = null)
    {
        options ??= LoadOptions.Default;
        var target = model.state_dict();
        string? prefix = string.IsNullOrEmpty(options.BasePrefix) ? null : options.BasePrefix.TrimEnd('.') + ".";
        bool modelHasPrefix = prefix != null && target.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
        bool ckptHasPrefix = prefix != null && source.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
        bool addPrefix = modelHasPrefix && !ckptHasPrefix;   // base checkpoint -> head model
        bool stripPrefix = !modelHasPrefix && ckptHasPrefix; // head checkpoint -> base model
        string prefixRule = addPrefix ? $"base-model prefix '{prefix}' added (the checkpoint is a base model)"
                                      : $"base-model prefix '{prefix}' stripped (the model is a base model)";

        bool IsModelHead(string k) => modelHasPrefix && !k.StartsWith(prefix!, StringComparison.Ordinal);
        bool IsCkptHead(string k) => ckptHasPrefix && !k.StartsWith(prefix!, StringComparison.Ordinal);

        var mapped = new Dictionary<string, string>(StringComparer.Ordinal); // model key -> checkpoint key
        var renamed = new List<KeyRename>();
        var unmatched = new List<string>();
        var errors = new List<string>();
        var mismatched = new List<string>();

        foreach (var s in source.Keys.Order(StringComparer.Ordinal))
        {
            string k = s;
            string? rule = null;
            if (addPrefix) { k = prefix + s; rule = prefixRule; }
            else if (stripPrefix && s.StartsWith(prefix!, StringComparison.Ordinal)) { k = s[prefix!.Length..]; rule = prefixRule; }
            if (!target.ContainsKey(k) && HfRename(k) is { } alt && target.ContainsKey(alt.Key))
            {
                k = alt.Key;
                rule = rule is null ? alt.Rule : $"{rule}; {alt.Rule}";
            }
            if (!target.ContainsKey(k)) { unmatched.Add(s); continue; }
            if (mapped.TryGetValue(k, out var other))
            {
                string line = $"{k}: provided by both '{other}' and '{s}' in the checkpoint";
                errors.Add("ambiguous " + line);
                mismatched.Add(line);
                continue;
            }
            mapped[k] = s;
            if (rule != null) renamed.Add(new KeyRename(s, k, rule));
        }

        var ignoreMissing = options.IgnoreMissing.Select(p => new Regex(p, RegexOptions.CultureInvariant)).ToList();
        var ignoreUnexpected = options.IgnoreUnexpected.Select(p => new Regex(p, RegexOptions.CultureInvariant)).ToList();
        var newHead = new List<NewHeadKey>();
        var missingOk = new List<string>();
        var missingBad = new List<string>();
        var unexpectedOk = new List<string>();
        var unexpectedBad = new List<string>();
        var dropped = new List<string>();
        bool headMissingBlocked = false, headShapeBlocked = false, ckptHeadBlocked = false;

        // A part may be new only as a whole: a checkpoint with half a pooler is broken, not a pooler-less export.
        var newParts = new List<NewPart>();
        var newPartKeys = new HashSet<string>(StringComparer.Ordinal);
        var partialParts = new List<string>();
        foreach (var rule in options.NewParts)
        {
            var rx = new Regex(rule.KeyPattern, RegexOptions.CultureInvariant);
            var keys = target.Keys.Where(k => rx.IsMatch(k)).Order(StringComparer.Ordinal).ToList();
            var absent = keys.Where(k => !mapped.ContainsKey(k)).ToList();
            if (keys.Count > 0 && absent.Count == keys.Count)
            {
                newParts.Add(new NewPart(rule.Name, keys, rule.Reason));
                newPartKeys.UnionWith(keys);
            }
            else if (absent.Count > 0)
                partialParts.Add($"the checkpoint holds only part of the {rule.Name} (has {string.Join(", ", keys.Except(absent))}); it may be absent only as a whole");
        }

        foreach (var k in target.Keys.Where(k => !mapped.ContainsKey(k)).Order(StringComparer.Ordinal))
        {
            if (IsModelHead(k) && options.AllowNewHead) newHead.Add(new NewHeadKey(k, "not in the checkpoint"));
            else if (newPartKeys.Contains(k)) continue; // reported in newParts
            else if (ignoreMissing.Any(r => r.IsMatch(k)) || !options.Strict) missingOk.Add(k);
            else { missingBad.Add(k); headMissingBlocked |= IsModelHead(k); }
        }
        foreach (var s in unmatched)
        {
            if (IsCkptHead(s) && options.AllowDroppedHead) dropped.Add(s);
            else if (ignoreUnexpected.Any(r => r.IsMatch(s)) || !options.Strict) unexpectedOk.Add(s);
            else { unexpectedBad.Add(s); ckptHeadBlocked |= IsCkptHead(s); }
        }

        var copies = new List<(Tensor To, Tensor From)>();
        var loaded = new List<string>();
        foreach (var (k, s) in mapped.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Tensor to = target[k], from = source[s];
            if (!to.shape.SequenceEqual(from.shape))
            {
                string shapes = $"model {Shape(to.shape)}, checkpoint {Shape(from.shape)}";
                if (IsModelHead(k) && options.AllowNewHead) { newHead.Add(new NewHeadKey(k, $"shape differs: {shapes}")); continue; }
                string line = $"{k}{(s != k ? $" (checkpoint '{s}')" : "")}: {shapes}";
                mismatched.Add(line);
                errors.Add("shape mismatch " + line);
                headShapeBlocked |= IsModelHead(k);
                continue;
            }
            if (Kind(to.dtype) != Kind(from.dtype))
            {
                string line = $"{k}: model dtype {to.dtype}, checkpoint dtype {from.dtype} (a {Kind(from.dtype)} value cannot fill a {Kind(to.dtype)} tensor)";
                mismatched.Add(line);
                errors.Add("dtype mismatch " + line);
                continue;
            }
            copies.Add((to, from));
            loaded.Add(k);
        }

        string src = options.SourceName ?? "checkpoint";
        if (errors.Count > 0 || missingBad.Count > 0 || unexpectedBad.Count > 0)
        {
            var sb = new StringBuilder($"{src}: the state dict does not fit {model.GetType().Name}");
            if (missingBad.Count > 0) sb.Append($"\n  missing (in the model, not in the checkpoint), {missingBad.Count}: {string.Join(", ", missingBad)}");
            if (unexpectedBad.Count > 0) sb.Append($"\n  unexpected (in the checkpoint, not in the model), {unexpectedBad.Count}: {string.Join(", ", unexpectedBad)}");
            foreach (var e in errors) sb.Append($"\n  {e}");
            if (headMissingBlocked || headShapeBlocked)
                sb.Append($"\n  hint: keys outside '{prefix}' are the model's head; set AllowNewHead to initialise a new head (e.g. num_labels changed or a base checkpoint)");
            if (ckptHeadBlocked)
                sb.Append($"\n  hint: keys outside '{prefix}' are the checkpoint's head; set AllowDroppedHead to load only the base model");
            foreach (var p in partialParts) sb.Append($"\n  hint: {p}");
            if (prefix is null && (missingBad.Count > 0 || unexpectedBad.Count > 0))
                sb.Append("\n  hint: no BasePrefix was given, so no base-model prefix was added or stripped");
            sb.Append("\n  nothing was loaded.");
            throw new StateDictMismatchException(sb.ToString(), missingBad, unexpectedBad, mismatched);
        }

        using (torch.no_grad())
            foreach (var (to, from) in copies) to.copy_(from);

        return new LoadReport(loaded, renamed, missingOk, unexpectedOk, newHead.OrderBy(n => n.Key, StringComparer.Ordinal).ToList(), dropped, options.SourceName)
        {
            NewParts = newParts,
        };
    }

    /// <summary>The one HF rename that applies to <paramref name="key"/>, if any (the caller checks the model has it).</summary>
    private static (string Key, string Rule)? HfRename(string key)
    {
        const string pw = "parametrizations.weight.original";
        int dot = key.LastIndexOf('.');
        string head = dot < 0 ? "" : key[..(dot + 1)], last = key[(dot + 1)..];
        switch (last)
        {
            case "gamma": return (head + "weight", GammaBetaRule);
            case "beta": return (head + "bias", GammaBetaRule);
            case "weight_g": return (head + pw + "0", WeightNormRule);
            case "weight_v": return (head + pw + "1", WeightNormRule);
        }
        if (key.EndsWith(pw + "0", StringComparison.Ordinal)) return (key[..^(pw.Length + 1)] + "weight_g", WeightNormRule);
        if (key.EndsWith(pw + "1", StringComparison.Ordinal)) return (key[..^(pw.Length + 1)] + "weight_v", WeightNormRule);
        return null;
    }

    private static string Kind(ScalarType t) =>
        torch.is_floating_point(t) ? "floating-point" : torch.is_complex(t) ? "complex" : "integer/bool";

    private static string Shape(long[] s) => $"[{string.Join(", ", s)}]";
}
