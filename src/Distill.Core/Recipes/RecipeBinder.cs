using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Distill.Schema;
using YamlDotNet.RepresentationModel;

namespace Distill.Recipes;

/// <summary>
/// Binds a YAML node tree into recipe records, collecting every error instead of stopping at the first: after a bad
/// value the binder goes on with the sibling keys, so one <c>distill validate</c> shows all problems.
/// <para>Rules. Mapping keys are the property's <c>[JsonPropertyName]</c>, else its snake_case name
/// (<c>WarmupSteps</c> → <c>warmup_steps</c>); unknown keys are errors that list the valid keys and suggest a close one.
/// Supported types: <see cref="string"/>, <see cref="int"/>, <see cref="long"/>, <see cref="double"/>, <see cref="bool"/>
/// (only <c>true</c>/<c>false</c>), enums (snake_case member names), <see cref="Nullable{T}"/>, <see cref="List{T}"/>,
/// <see cref="Dictionary{TKey,TValue}"/> with string keys, records with a parameterless constructor and public
/// init/set properties (omitted keys keep their defaults), <see cref="IRecipeValue{TSelf}"/> types, abstract bases with
/// <see cref="PolymorphicAttribute"/>, properties with <see cref="TypeFromSiblingAttribute"/> (bound from an empty
/// mapping when omitted, so the family's defaults apply) and raw <see cref="YamlNode"/>.
/// <see cref="RequiredKeyAttribute"/>, <see cref="BoundsAttribute"/> and <see cref="ExistingPathAttribute"/> are checked
/// (an existing path is stored absolute, resolved against the recipe's folder). Null (<c>~</c>, <c>null</c>, empty) is
/// accepted only where the property is nullable. YAML tags (<c>!import</c>, <c>!!str</c>...) are errors: recipes are
/// data, not code.</para>
/// </summary>
public sealed class RecipeBinder
{
    private static readonly Regex IntegerText = new(@"^[+-]?[0-9]+$", RegexOptions.CultureInvariant);
    private static readonly Regex NumberText = new(@"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant);
    private static readonly MethodInfo FromYamlMethod =
        typeof(RecipeBinder).GetMethod(nameof(CallFromYaml), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly RecipeSource _source;

    /// <summary>A binder for nodes read from <paramref name="file"/>; relative paths resolve against its folder.</summary>
    public RecipeBinder(string file)
        : this(new RecipeSource(file, Path.GetDirectoryName(Path.GetFullPath(file)) ?? Directory.GetCurrentDirectory()))
    {
    }

    internal RecipeBinder(RecipeSource source) => _source = source;

    /// <summary>Every error found so far, in the order found.</summary>
    public IReadOnlyList<RecipeError> Errors => _source.Errors;

    /// <summary>Binds <paramref name="node"/> as a <typeparamref name="T"/>; check <see cref="Errors"/> for problems.</summary>
    /// <param name="keyPath">Key path of <paramref name="node"/> in the recipe, prefixed to every error (empty for the root).</param>
    public T? Bind<T>(YamlNode node, string keyPath = "") => Bind(typeof(T), node, keyPath) is T t ? t : default;

    /// <summary>Binds <paramref name="node"/> as <paramref name="type"/>; on errors returns what could be bound (possibly null).</summary>
    public object? Bind(Type type, YamlNode node, string keyPath = "")
    {
        TryBind(type, node, keyPath, new Slot(false, null, null), out var value);
        return value;
    }

    /// <summary>What a property adds to its type: nullability, bounds and the existing-path check.</summary>
    private readonly record struct Slot(bool Nullable, BoundsAttribute? Bounds, ExistingPathAttribute? ExistingPath);

    /// <summary>
    /// Binds one value. Returns false when an error was reported; <paramref name="value"/> may still hold a partly
    /// bound record (so later checks can look at its other keys).
    /// </summary>
    private bool TryBind(Type type, YamlNode node, string path, Slot slot, out object? value)
    {
        value = null;
        if (!CheckTag(node, path)) return false;
        var underlying = Nullable.GetUnderlyingType(type);
        if (YamlNodes.IsNull(node))
        {
            if (slot.Nullable || underlying is not null) return true;
            if (type.GetCustomAttribute<PolymorphicAttribute>() is null && IsRecord(type) && node is YamlScalarNode { Value: "" })
                return Fail(node, path, $"expected {Expected(type, slot)}, got an empty value (write the keys indented below, or remove the key to keep the defaults)");
            return Fail(node, path, $"expected {Expected(type, slot)}, got null");
        }
        type = underlying ?? type;

        if (typeof(YamlNode).IsAssignableFrom(type))
        {
            if (!type.IsInstanceOfType(node)) return Fail(node, path, $"expected {Expected(type, slot)}, got {YamlNodes.Describe(node)}");
            bool clean = true;
            foreach (var n in YamlNodes.All(node).Skip(1)) clean &= CheckTag(n, path);
            value = node;
            return clean;
        }
        if (type == typeof(string)) return BindString(node, path, slot, out value);
        if (type == typeof(int) || type == typeof(long) || type == typeof(double)) return BindNumber(type, node, path, slot, out value);
        if (type == typeof(bool))
        {
            if (node is YamlScalarNode { Value: "true" or "false" } b) { value = b.Value == "true"; return true; }
            return Fail(node, path, $"expected true or false, got {YamlNodes.Describe(node)}");
        }
        if (type.IsEnum) return BindEnum(type, node, path, out value);
        if (IsRecipeValue(type)) return BindRecipeValue(type, node, path, out value);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>)) return BindList(type, node, path, out value);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) && type.GenericTypeArguments[0] == typeof(string))
            return BindDictionary(type, node, path, out value);
        if (type.GetCustomAttribute<PolymorphicAttribute>() is { } poly) return BindPolymorphic(type, poly, node, path, out value);
        if (IsRecord(type)) return BindObject(type, node, path, out value);
        return Fail(node, path, $"cannot bind values of type {type.Name} (a Distill bug: the recipe record uses an unsupported type)");
    }

    private static bool IsRecord(Type type) =>
        type.IsClass && !type.IsAbstract && type != typeof(string) && type.GetConstructor(Type.EmptyTypes) is not null;

    private static bool IsRecipeValue(Type type) => type.IsClass && type.GetInterfaces().Any(i =>
        i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRecipeValue<>) && i.GenericTypeArguments[0] == type);

    private bool Fail(YamlNode? node, string path, string message)
    {
        _source.Add(node, path, message);
        return false;
    }

    private bool CheckTag(YamlNode node, string path)
    {
        if (node.Tag.IsEmpty) return true;
        return Fail(node, path,
            $"YAML tags such as '{node.Tag}' are not supported: a recipe is plain data, not code; write the value without the tag");
    }

    // ---- scalars ----------------------------------------------------------------------------------------------

    private bool BindString(YamlNode node, string path, Slot slot, out object? value)
    {
        value = null;
        if (node is not YamlScalarNode { Value: var text } || text is null)
            return Fail(node, path, $"expected {Expected(typeof(string), slot)}, got {YamlNodes.Describe(node)}");
        if (slot.ExistingPath is not { } ep) { value = text; return true; }

        string full;
        try { full = Path.GetFullPath(Path.Combine(_source.BaseDirectory, text)); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return Fail(node, path, $"'{text}' is not a valid path: {e.Message}");
        }
        bool isDir = Directory.Exists(full), isFile = File.Exists(full);
        string resolved = Path.IsPathRooted(text) ? "" : $" (resolved from '{text}' relative to the recipe's folder)";
        if (ep.Folder && !isDir)
            return Fail(node, path, isFile
                ? $"expected a folder, but {full} is a file"
                : $"folder not found: {full}{resolved}");
        if (ep.FileOrFolder && !isDir && !isFile)
            return Fail(node, path, $"no such file or folder: {full}{resolved}");
        if (!ep.Folder && !ep.FileOrFolder && !isFile)
            return Fail(node, path, isDir
                ? $"expected a file, but {full} is a folder"
                : $"file not found: {full}{resolved}");
        value = full;
        return true;
    }

    private bool BindNumber(Type type, YamlNode node, string path, Slot slot, out object? value)
    {
        value = null;
        string? text = (node as YamlScalarNode)?.Value;
        double number;
        if (type == typeof(double))
        {
            if (text is null || !NumberText.IsMatch(text)
                || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number) || !double.IsFinite(number))
                return Fail(node, path, $"expected {Expected(type, slot)}, got {YamlNodes.Describe(node)}");
            value = number;
        }
        else if (type == typeof(int))
        {
            if (text is null || !IntegerText.IsMatch(text) || !int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i))
                return Fail(node, path, $"expected {Expected(type, slot)}, got {YamlNodes.Describe(node)}{TooLarge(text)}");
            value = i;
            number = i;
        }
        else
        {
            if (text is null || !IntegerText.IsMatch(text) || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
                return Fail(node, path, $"expected {Expected(type, slot)}, got {YamlNodes.Describe(node)}{TooLarge(text)}");
            value = l;
            number = l;
        }
        if (slot.Bounds is { } b)
        {
            bool below = b.ExclusiveMinimum ? number <= b.Minimum : number < b.Minimum;
            if (below || number > b.Maximum)
            {
                value = null;
                return Fail(node, path, $"expected {Expected(type, slot)}, got {text}");
            }
        }
        return true;
    }

    private static string TooLarge(string? text) => text is not null && IntegerText.IsMatch(text) ? " (out of range for an integer)" : "";

    private bool BindEnum(Type type, YamlNode node, string path, out object? value)
    {
        value = null;
        var names = Enum.GetNames(type).Select(RecipeProperty.SnakeCase).ToList();
        if (node is YamlScalarNode { Value: { } text })
        {
            int index = names.IndexOf(text);
            if (index >= 0) { value = Enum.GetValues(type).GetValue(index); return true; }
            return Fail(node, path, $"expected one of {string.Join(", ", names)}, got '{text}'{TextDistance.DidYouMean(text, names)}");
        }
        return Fail(node, path, $"expected one of {string.Join(", ", names)}, got {YamlNodes.Describe(node)}");
    }

    private bool BindRecipeValue(Type type, YamlNode node, string path, out object? value)
    {
        string? error;
        try
        {
            var args = new object?[] { node, null };
            value = FromYamlMethod.MakeGenericMethod(type).Invoke(null, args);
            error = (string?)args[1];
        }
        catch (TargetInvocationException e) when (e.InnerException is NotImplementedException)
        {
            value = null;
            error = $"{type.Name} values cannot be read in this build yet (not implemented); remove the key to use the default";
        }
        catch (TargetInvocationException e)
        {
            value = null;
            error = e.InnerException?.Message ?? e.Message;
        }
        if (value is not null) return true;
        return Fail(node, path, error ?? $"invalid {type.Name}: {YamlNodes.Describe(node)}");
    }

    private static T? CallFromYaml<T>(YamlNode node, out string? error) where T : class, IRecipeValue<T> => T.FromYaml(node, out error);

    // ---- collections ------------------------------------------------------------------------------------------

    private bool BindList(Type type, YamlNode node, string path, out object? value)
    {
        value = null;
        if (node is not YamlSequenceNode seq) return Fail(node, path, $"expected a list, got {YamlNodes.Describe(node)}");
        var elementType = type.GenericTypeArguments[0];
        var list = (System.Collections.IList)Activator.CreateInstance(type)!;
        bool ok = true;
        for (int i = 0; i < seq.Children.Count; i++)
        {
            bool elementOk = TryBind(elementType, seq.Children[i], KeyPaths.Index(path, i), new Slot(false, null, null), out var v);
            ok &= elementOk;
            if (v is not null || elementOk) list.Add(v);
        }
        value = list;
        return ok;
    }

    private bool BindDictionary(Type type, YamlNode node, string path, out object? value)
    {
        value = null;
        if (node is not YamlMappingNode map) return Fail(node, path, $"expected a mapping, got {YamlNodes.Describe(node)}");
        var valueType = type.GenericTypeArguments[1];
        var dict = (System.Collections.IDictionary)Activator.CreateInstance(type)!;
        bool ok = true;
        foreach (var kv in map.Children)
        {
            if (!CheckTag(kv.Key, path)) { ok = false; continue; }
            if (kv.Key is not YamlScalarNode { Value: { } key }) { ok = Fail(kv.Key, path, "expected a plain key, got " + YamlNodes.Describe(kv.Key)); continue; }
            string childPath = _source.PathOf(kv.Value) ?? KeyPaths.Child(path, key);
            bool entryOk = TryBind(valueType, kv.Value, childPath, new Slot(false, null, null), out var v);
            ok &= entryOk;
            if (v is not null || entryOk) dict[key] = v;
        }
        value = dict;
        return ok;
    }

    // ---- records ----------------------------------------------------------------------------------------------

    private bool BindPolymorphic(Type baseType, PolymorphicAttribute poly, YamlNode node, string path, out object? value)
    {
        value = null;
        var resolver = CreateResolver(poly.Resolver);
        string keys = string.Join(", ", resolver.Keys);
        if (node is not YamlMappingNode map)
            return Fail(node, path, $"expected a mapping with '{poly.Discriminator}' (one of {keys}), got {YamlNodes.Describe(node)}");
        var (_, discNode) = YamlNodes.Find(map, poly.Discriminator);
        string discPath = KeyPaths.Child(path, poly.Discriminator);
        if (discNode is null) return Fail(map, discPath, $"missing required key '{poly.Discriminator}' (one of {keys})");
        if (!CheckTag(discNode, discPath)) return false;
        if (discNode is not YamlScalarNode { Value: { Length: > 0 } text } || YamlNodes.IsNull(discNode))
            return Fail(discNode, discPath, $"expected one of {keys}, got {YamlNodes.Describe(discNode)}");
        var type = resolver.Resolve(text);
        if (type is null)
            return Fail(discNode, discPath, $"unknown {poly.Discriminator} '{text}'{TextDistance.DidYouMean(text, resolver.Keys)}; expected one of {keys}");
        if (!baseType.IsAssignableFrom(type) || !IsRecord(type))
            return Fail(discNode, discPath, $"{poly.Discriminator} '{text}' maps to {type.Name}, which is not a bindable {baseType.Name} (a Distill bug)");
        return BindObject(type, map, path, out value);
    }

    private static ITypeResolver CreateResolver(Type resolverType) =>
        Activator.CreateInstance(resolverType) as ITypeResolver
        ?? throw new InvalidOperationException($"{resolverType.Name} does not implement {nameof(ITypeResolver)}.");

    private bool BindObject(Type type, YamlNode node, string path, out object? value)
    {
        value = null;
        var props = RecipeProperty.Of(type);
        if (node is not YamlMappingNode map)
            return Fail(node, path, $"expected a mapping (keys: {string.Join(", ", props.Select(p => p.Key))}), got {YamlNodes.Describe(node)}");
        var instance = Activator.CreateInstance(type)!;
        bool ok = true;
        var present = new HashSet<string>(StringComparer.Ordinal);
        var deferred = new Dictionary<RecipeProperty, YamlNode>();
        foreach (var kv in map.Children)
        {
            if (!CheckTag(kv.Key, path)) { ok = false; continue; }
            if (kv.Key is not YamlScalarNode { Value: { } key }) { ok = Fail(kv.Key, path, "expected a plain key, got " + YamlNodes.Describe(kv.Key)); continue; }
            string childPath = _source.PathOf(kv.Value) ?? KeyPaths.Child(path, key);
            var prop = props.FirstOrDefault(p => p.Key == key);
            if (prop is null)
            {
                var names = props.Select(p => p.Key).ToList();
                ok = Fail(kv.Key, _source.PathOf(kv.Key) ?? childPath,
                    $"unknown key '{key}'{TextDistance.DidYouMean(key, names)}; valid keys: {string.Join(", ", names)}");
                continue;
            }
            present.Add(key);
            if (prop.TypeFromSibling is not null) { deferred[prop] = kv.Value; continue; }
            bool propOk = TryBind(prop.Type, kv.Value, childPath, new Slot(prop.Nullable, prop.Bounds, prop.ExistingPath), out var v);
            ok &= propOk;
            if (v is not null || (propOk && prop.Nullable)) prop.Info.SetValue(instance, v);
        }
        foreach (var prop in props.Where(p => p.TypeFromSibling is not null))
            ok &= BindFromSibling(prop, map, deferred.GetValueOrDefault(prop), path, instance);
        foreach (var prop in props.Where(p => p.Required && !present.Contains(p.Key)))
            ok = Fail(map, KeyPaths.Child(path, prop.Key),
                $"missing required key '{prop.Key}' (expected {Expected(prop.Type, new Slot(prop.Nullable, prop.Bounds, prop.ExistingPath))})");
        _source.Record(instance, map, path);
        value = instance;
        return ok;
    }

    /// <summary>
    /// Binds a property whose type is chosen by a sibling key (<c>config</c> by <c>model</c>). When the property is
    /// omitted or null, an empty mapping is bound so the chosen type's defaults apply; errors about that synthesised
    /// mapping are placed at the sibling.
    /// </summary>
    private bool BindFromSibling(RecipeProperty prop, YamlMappingNode map, YamlNode? valueNode, string path, object instance)
    {
        var attr = prop.TypeFromSibling!;
        var (_, siblingNode) = YamlNodes.Find(map, attr.SiblingKey);
        if (siblingNode is not YamlScalarNode { Value: { Length: > 0 } text } || YamlNodes.IsNull(siblingNode) || !siblingNode.Tag.IsEmpty)
            return true; // the sibling's own binding (required key, type) reports the problem
        var resolver = CreateResolver(attr.Resolver);
        var type = resolver.Resolve(text);
        string siblingPath = _source.PathOf(siblingNode) ?? KeyPaths.Child(path, attr.SiblingKey);
        if (type is null)
            return Fail(siblingNode, siblingPath,
                $"unknown {attr.SiblingKey} '{text}'{TextDistance.DidYouMean(text, resolver.Keys)}; expected one of {string.Join(", ", resolver.Keys)}");
        if (!prop.Type.IsAssignableFrom(type))
            return Fail(siblingNode, siblingPath, $"{attr.SiblingKey} '{text}' maps to {type.Name}, which is not a {prop.Type.Name} (a Distill bug)");
        string childPath = valueNode is not null ? _source.PathOf(valueNode) ?? KeyPaths.Child(path, prop.Key) : KeyPaths.Child(path, prop.Key);
        if (valueNode is null || (YamlNodes.IsNull(valueNode) && valueNode.Tag.IsEmpty))
        {
            var empty = new YamlMappingNode();
            _source.LocateAt(empty, siblingNode);
            valueNode = empty;
        }
        bool ok = TryBind(type, valueNode, childPath, new Slot(false, null, null), out var v);
        if (v is not null) prop.Info.SetValue(instance, v);
        return ok;
    }

    // ---- messages ---------------------------------------------------------------------------------------------

    /// <summary>What a value of <paramref name="type"/> must look like, for "expected ..." messages.</summary>
    private static string Expected(Type type, Slot slot)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
            return slot.ExistingPath switch
            {
                { Folder: true } => "the path of an existing folder",
                { FileOrFolder: true } => "the path of an existing file or folder",
                not null => "the path of an existing file",
                null => "a string",
            };
        if (type == typeof(int) || type == typeof(long)) return "an integer" + BoundsText(slot.Bounds, int.MaxValue);
        if (type == typeof(double)) return "a number" + BoundsText(slot.Bounds, double.MaxValue);
        if (type == typeof(bool)) return "true or false";
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type).Select(RecipeProperty.SnakeCase));
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>)) return "a list";
        if (type.GetCustomAttribute<PolymorphicAttribute>() is { } poly) return $"a mapping with '{poly.Discriminator}'";
        if (typeof(YamlScalarNode).IsAssignableFrom(type)) return "a single value";
        if (typeof(YamlSequenceNode).IsAssignableFrom(type)) return "a list";
        if (typeof(YamlNode).IsAssignableFrom(type) && !typeof(YamlMappingNode).IsAssignableFrom(type)) return "a value";
        if (IsRecipeValue(type)) return $"a {type.Name} value";
        return "a mapping";
    }

    private static string BoundsText(BoundsAttribute? b, double unbounded)
    {
        if (b is null) return "";
        string lower = (b.ExclusiveMinimum ? " > " : " >= ") + b.Minimum.ToString(CultureInfo.InvariantCulture);
        return b.Maximum >= unbounded ? lower : $"{lower} and <= {b.Maximum.ToString(CultureInfo.InvariantCulture)}";
    }
}
