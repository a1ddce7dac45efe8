using System.Text.RegularExpressions;
using Distill.Data;
using Distill.Schema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Distill.Recipes;

/// <summary>
/// Reads a recipe file into a <see cref="Recipe"/>, checking everything that can be checked without building a model,
/// and reporting every problem at once with its file, line, column and key path. Nothing is written and no tensor is
/// allocated; the model-level checks (module paths, hint shapes) are <see cref="RecipeValidator"/>'s.
/// <para>Steps: read the file; parse YAML (syntax errors and duplicate keys are reported, loading goes on past
/// duplicates); apply <c>--set key.path=value</c> overrides to the node tree; merge each stage's <c>train:</c> over the
/// top-level <c>train:</c> (key by key, keeping the original nodes so errors keep their place; a stage that sets
/// <c>epochs</c> or <c>steps</c> replaces both inherited length keys); bind with <see cref="RecipeBinder"/>; then
/// recipe-level checks: at least one stage, unique stage and loss-term names, exactly one of <c>epochs</c>/<c>steps</c>
/// per stage, the device string, <c>pretrained</c>/<c>init_from_teacher</c> specs (resolved into <c>model</c> + <c>config</c>
/// by <see cref="ModelSpecResolver"/>), a teacher for every <c>distill</c> stage (an earlier <c>train_teacher</c> stage,
/// <c>teacher.checkpoint</c> (not both) or <c>teacher.pretrained</c>), at least one loss term for <c>distill</c>, the model configs'
/// <see cref="Models.IModelConfig.Validate"/> and the dataset's own checks.</para>
/// </summary>
public static class RecipeLoader
{
    private static readonly Regex DeviceText = new(@"^(cpu|cuda(:[0-9]+)?)$", RegexOptions.CultureInvariant);

    /// <summary>Loads and checks the recipe at <paramref name="path"/> with the given <c>key.path=value</c> overrides.</summary>
    public static RecipeLoadResult Load(string path, IReadOnlyList<string>? overrides = null)
    {
        overrides ??= [];
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return Fail(path, $"not a valid file path: {e.Message}");
        }
        if (Directory.Exists(full)) return Fail(path, $"{full} is a folder; give the recipe's .yaml file");
        if (!File.Exists(full)) return Fail(path, $"recipe file not found: {full}");
        string text;
        try { text = File.ReadAllText(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(path, $"cannot read the recipe file: {e.Message}");
        }

        var source = new RecipeSource(path, Path.GetDirectoryName(full)!);
        var root = Parse(text, source);
        Recipe? recipe = null;
        if (root is not null)
        {
            RecipeOverrides.Apply(root, overrides, source);
            if (root is YamlMappingNode)
            {
                var lengthPaths = MergeStageTrain(root, source);
                recipe = new RecipeBinder(source).Bind<Recipe>(root);
                if (recipe is not null) recipe = ModelSpecResolver.Resolve(recipe, source);
                if (recipe is not null) recipe = NumLabelsResolver.Resolve(recipe, source);
                if (recipe is not null) Check(recipe, root, source, lengthPaths);
            }
            else
                source.Add(root, "", $"a recipe is a mapping with the keys teacher, student, data and stages; got {YamlNodes.Describe(root)}");
        }
        return new RecipeLoadResult(path, recipe, Ordered(source, overrides), source);
    }

    private static RecipeLoadResult Fail(string path, string message) =>
        new(path, null, [new RecipeError(path, 0, 0, "", message)], null);

    /// <summary>Distinct errors: the file's in line/column order (whole-file ones first), then the overrides' in command-line order.</summary>
    private static List<RecipeError> Ordered(RecipeSource source, IReadOnlyList<string> overrides)
    {
        var overrideOrder = overrides.Select((o, i) => (o, i)).GroupBy(t => $"--set {t.o}").ToDictionary(g => g.Key, g => g.First().i);
        return source.Errors.Distinct().Select((e, i) => (e, i))
            .OrderBy(t => t.e.File != source.File ? 2 : t.e.Line == 0 ? 0 : 1)
            .ThenBy(t => t.e.File == source.File ? t.e.Line : overrideOrder.GetValueOrDefault(t.e.File))
            .ThenBy(t => t.e.File == source.File ? t.e.Column : 0)
            .ThenBy(t => t.i).Select(t => t.e).ToList();
    }

    private static YamlNode? Parse(string text, RecipeSource source)
    {
        var filter = new DuplicateKeyFilter(new Parser(new StringReader(text)), (key, first, keyPath) =>
            source.Errors.Add(new RecipeError(source.File, (int)key.Start.Line, (int)key.Start.Column, keyPath,
                $"duplicate key '{key.Value}' (first given at line {first.Line}); a key may appear only once in a mapping")));
        var stream = new YamlStream();
        try
        {
            stream.Load(filter);
        }
        catch (YamlException e)
        {
            source.Errors.Add(new RecipeError(source.File, (int)Math.Max(1, e.Start.Line), (int)Math.Max(1, e.Start.Column), "",
                $"invalid YAML: {e.Message} (check the indentation and quoting here and on the line above)"));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this (without a position) on some unterminated flow collections.
            source.Errors.Add(new RecipeError(source.File, (int)Math.Max(1, filter.LastEnd.Line), (int)Math.Max(1, filter.LastEnd.Column), "",
                "invalid YAML after this point: the parser could not go on (is a '[', '{' or quote left open?)"));
            return null;
        }
        if (stream.Documents.Count == 0)
        {
            source.Errors.Add(new RecipeError(source.File, 0, 0, "", "the recipe is empty; it needs the keys teacher, student, data and stages"));
            return null;
        }
        for (int i = 1; i < stream.Documents.Count; i++)
            source.Add(stream.Documents[i].RootNode, "",
                "a recipe is a single YAML document; remove this '---' document (only the first one would be read)");
        return stream.Documents[0].RootNode;
    }

    /// <summary>
    /// Replaces each stage's <c>train:</c> with the top-level <c>train:</c> keys overlaid by the stage's own. The nodes
    /// are the originals, so errors keep their line, column and key path (<c>train.lr</c> for an inherited key).
    /// Returns, for each merged mapping, the key path its whole-mapping errors are reported under.
    /// </summary>
    private static Dictionary<YamlNode, string> MergeStageTrain(YamlNode root, RecipeSource source)
    {
        var lengthPaths = new Dictionary<YamlNode, string>(ReferenceEqualityComparer.Instance);
        var (_, topNode) = YamlNodes.Find(root, "train");
        var top = topNode as YamlMappingNode;
        if (top is not null)
            foreach (var kv in top.Children)
                if (kv.Key is YamlScalarNode { Value: { } key })
                {
                    source.SetPath(kv.Key, KeyPaths.Child("train", key));
                    source.SetPath(kv.Value, KeyPaths.Child("train", key));
                }
        if (YamlNodes.Find(root, "stages").Value is not YamlSequenceNode stages) return lengthPaths;

        for (int i = 0; i < stages.Children.Count; i++)
        {
            if (stages.Children[i] is not YamlMappingNode stage) continue;
            var (trainKey, ownNode) = YamlNodes.Find(stage, "train");
            if (ownNode is not null && !YamlNodes.IsNull(ownNode) && ownNode is not YamlMappingNode) continue; // bound (and reported) as is
            var own = ownNode as YamlMappingNode;
            var merged = new YamlMappingNode();
            source.LocateAt(merged, (YamlNode?)own ?? (YamlNode?)top ?? stage);
            string stagePath = KeyPaths.Index("stages", i);
            lengthPaths[merged] = own is not null ? KeyPaths.Child(stagePath, "train") : top is not null ? "train" : stagePath;

            bool ownLength = own is not null && (YamlNodes.Find(own, "epochs").Key is not null || YamlNodes.Find(own, "steps").Key is not null);
            if (top is not null)
                foreach (var kv in top.Children)
                {
                    if (kv.Key is not YamlScalarNode { Value: { } key }) continue;
                    if (YamlNodes.Find(own, key).Key is not null) continue;
                    if (ownLength && key is "epochs" or "steps") continue;
                    merged.Add(kv.Key, kv.Value);
                }
            if (own is not null)
                foreach (var kv in own.Children) merged.Add(kv.Key, kv.Value);

            if (trainKey is not null) stage.Children[trainKey] = merged;
            else
            {
                var key = new YamlScalarNode("train");
                source.LocateAt(key, stage);
                stage.Add(key, merged);
            }
        }
        return lengthPaths;
    }

    private static void Check(Recipe recipe, YamlNode root, RecipeSource source, Dictionary<YamlNode, string> lengthPaths)
    {
        if (recipe.Stages.Count == 0 && !source.HasErrorsUnder("stages") && YamlNodes.Find(root, "stages").Value is { } stagesNode)
            source.Add(stagesNode, "stages", "expected at least one stage, e.g. '- kind: train_teacher'");

        CheckUniqueNames(recipe.Stages, s => s.DisplayName, s => s.Name is null ? "kind" : "name", "stage", source);
        CheckUniqueNames(recipe.Distill.Terms, t => t.DisplayName, t => t.Name is null ? "kind" : "name", "loss term", source);

        bool topTrainBroken = source.Errors.Any(e => e.KeyPath == "train");
        if (!topTrainBroken) { CheckDevice(recipe.Train, source); CheckAccumulation(recipe.Train, source); }
        foreach (var stage in recipe.Stages)
        {
            if (stage.Train is not { } train || !source.TryGetSource(train, out var trainNode, out var trainPath)) continue;
            if (topTrainBroken || source.Errors.Any(e => e.KeyPath == trainPath)) continue;
            CheckDevice(train, source);
            CheckAccumulation(train, source);
            if (new[] { "train.epochs", "train.steps", $"{trainPath}.epochs", $"{trainPath}.steps" }.Any(source.HasErrorsUnder)) continue;
            if (train.Epochs is null && train.Steps is null)
                source.Add(trainNode, lengthPaths.GetValueOrDefault(trainNode, trainPath),
                    $"stage '{stage.DisplayName}' has no training length: set exactly one of epochs or steps (in the top-level train: or the stage's own train:)");
            else if (train.Epochs is not null && train.Steps is not null)
            {
                var (stepsNode, stepsPath) = source.Locate(train, "steps");
                var (epochsNode, epochsPath) = source.Locate(train, "epochs");
                var epochsAt = source.Error(epochsNode, epochsPath, "");
                string where = epochsAt.Line > 0 ? $"line {epochsAt.Line}" : epochsAt.File;
                source.Add(stepsNode, stepsPath,
                    $"both steps and epochs ({epochsPath}, {where}) are set; give exactly one of them");
            }
        }

        CheckTeacher(recipe, source);
        foreach (var stage in recipe.Stages.OfType<ISpecChecks>())
            if (source.TryGetSource(stage, out _, out var stagePath) && !source.HasErrorsUnder(stagePath))
                foreach (var (key, message) in stage.Check(recipe)) { var (node, path) = source.Locate(stage, key); source.Add(node, path, message); }

        foreach (var (name, spec) in new[] { ("teacher", recipe.Teacher), ("student", recipe.Student) })
        {
            if (spec.Config is not { } config || source.HasErrorsUnder(name)) continue;
            List<(string Key, string Message)> problems;
            try { problems = config.Validate().ToList(); }
            catch (Exception e) { problems = [("", $"the config cannot be checked: {e.Message}")]; }
            foreach (var (key, message) in problems)
            {
                var (node, path) = source.Locate(config, key);
                source.Add(node, path, message);
            }
        }

        if (!source.HasErrorsUnder("student") && !source.HasErrorsUnder("data"))
            foreach (var spec in recipe.Stages.OfType<IRecipeCheckedSpec>())
                foreach (var (key, message) in spec.Check(recipe)) { var (node, path) = source.Locate(spec, key); source.Add(node, path, message); }

        if (recipe.Distill.Transfer is { } transfer && !source.HasErrorsUnder("distill") && !source.HasErrorsUnder("data"))
        {
            if (transfer.Unlabelled == 0 && transfer.Augment is null)
            {
                var (node, path) = source.Locate(recipe.Distill, "transfer");
                source.Add(node, path, "the transfer set is empty; give unlabelled (examples beyond data.train_limit), augment, or both");
            }
            else if (transfer.Unlabelled > 0 && recipe.Data.TrainLimit is null)
            {
                var (node, path) = source.Locate(transfer, "unlabelled");
                source.Add(node, path, "these are the training examples beyond data.train_limit, but data.train_limit is not set; " +
                    "set it to the number of labelled examples to train on");
            }
            if (transfer.Augment is { } augment && recipe.Data.Tokenizer is null)
            {
                var (node, path) = source.Locate(transfer, "augment");
                source.Add(node, path, "augmentation replaces words of the text, so it needs data.tokenizer (the teacher's vocabulary)");
            }
        }

        if (!source.HasErrorsUnder("data"))
        {
            var data = recipe.Data;
            if (!DatasetRegistry.Default.TryGet(data.Dataset, out var dataset))
            {
                var (node, path) = source.Locate(data, "dataset");
                var keys = DatasetRegistry.Default.Keys.Order().ToList();
                source.Add(node, path, $"unknown dataset '{data.Dataset}'{TextDistance.DidYouMean(data.Dataset, keys)}; expected one of {string.Join(", ", keys)}");
            }
            else if (CheckDataKeys(data, dataset, source))
            {
                List<(string Key, string Message)> problems;
                try { problems = dataset.Validate(data).ToList(); }
                catch (Exception e) { problems = [("", $"the data section cannot be checked: {e.Message}")]; }
                foreach (var (key, message) in problems)
                {
                    var (node, path) = source.Locate(data, key);
                    source.Add(node, path, message);
                }
            }
        }
    }

    /// <summary>The keys that only some dataset kinds read, and the choice between eval_split and eval_splits; false when a problem was reported.</summary>
    private static bool CheckDataKeys(DataSpec data, DatasetKind kind, RecipeSource source)
    {
        int before = source.Errors.Count;
        if (!source.TryGetSource(data, out var dataNode, out _)) return true;
        bool Given(YamlNode? parent, string key) => YamlNodes.Find(parent, key).Value is { } v && !YamlNodes.IsNull(v);
        if (Given(dataNode, "eval_split") && Given(dataNode, "eval_splits"))
        {
            var (node, path) = source.Locate(data, "eval_splits");
            source.Add(node, path, "eval_split and eval_splits are both given; keep eval_splits (a list: the first split is reported as metrics and chooses the best checkpoint)");
        }
        if (data.EvalSplits is { } splits)
        {
            if (splits.Count == 0)
            {
                var (node, path) = source.Locate(data, "eval_splits");
                source.Add(node, path, "give at least one split, e.g. [validation, test]");
            }
            for (int i = 0; i < splits.Count; i++)
                if (splits.IndexOf(splits[i]) < i)
                {
                    var (node, path) = source.Locate(data, $"eval_splits[{i}]");
                    source.Add(node, path, $"split '{splits[i]}' is listed twice; list each split once");
                }
        }
        if (data.Labels is { } labels)
        {
            if (labels.Count < 2)
            {
                var (node, path) = source.Locate(data, "labels");
                source.Add(node, path, $"a classifier needs at least two classes, got {labels.Count}");
            }
            for (int i = 0; i < labels.Count; i++)
                if (labels.IndexOf(labels[i]) < i)
                {
                    var (node, path) = source.Locate(data, $"labels[{i}]");
                    source.Add(node, path, $"label '{labels[i]}' is listed twice; list each class once");
                }
        }
        var preprocessingNode = YamlNodes.Find(dataNode, "preprocessing").Value;
        foreach (var (parent, prefix, key) in OptionalDataKeys)
        {
            if (kind.Reads.Contains(prefix + key) || !Given(prefix.Length == 0 ? dataNode : preprocessingNode, key)) continue;
            var users = DatasetRegistry.Default.Keys.Order().Where(k => DatasetRegistry.Default.Get(k).Reads.Contains(prefix + key));
            var (node, path) = source.Locate(parent(data), key);
            source.Add(node, path, $"the {kind.Key} dataset does not read {prefix + key} (it is for {string.Join(", ", users)}); remove it");
        }
        return source.Errors.Count == before;
    }

    /// <summary>Data keys that only some kinds read (<see cref="DatasetKind.Reads"/>): the record they belong to, their prefix and key.</summary>
    private static readonly (Func<DataSpec, object> Parent, string Prefix, string Key)[] OptionalDataKeys =
    [
        (d => d, "", "text_column"), (d => d, "", "text_pair_column"), (d => d, "", "label_column"), (d => d, "", "labels"),
        (d => d, "", "rename_columns"), (d => d, "", "text_unescape"), (d => d, "", "vocab"),
        (d => d.Preprocessing, "preprocessing.", "size"), (d => d.Preprocessing, "preprocessing.", "channels"),
        (d => d.Preprocessing, "preprocessing.", "sampling_rate"), (d => d.Preprocessing, "preprocessing.", "processor"),
    ];

    private static void CheckUniqueNames<T>(IEnumerable<T> items, Func<T, string> name, Func<T, string> nameKey, string what, RecipeSource source)
        where T : notnull
    {
        var first = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (!source.TryGetSource(item, out _, out var itemPath)) continue;
            string n = name(item);
            if (first.TryGetValue(n, out var firstPath))
            {
                var (node, path) = source.Locate(item, nameKey(item));
                source.Add(node, path, $"{what} name '{n}' is already used by {firstPath}; give each {what} a unique 'name:'");
            }
            else first[n] = itemPath;
        }
    }

    private static void CheckDevice(TrainSpec train, RecipeSource source)
    {
        if (DeviceText.IsMatch(train.Device)) return;
        var (node, path) = source.Locate(train, "device");
        if (source.HasErrorsUnder(path)) return;
        source.Add(node, path, $"expected cpu, cuda or cuda:N (e.g. cuda:0), got '{train.Device}'");
    }

    /// <summary>Each micro-batch needs at least one example.</summary>
    private static void CheckAccumulation(TrainSpec train, RecipeSource source)
    {
        if (train.GradAccumSteps <= train.BatchSize) return;
        var (node, path) = source.Locate(train, "grad_accum_steps");
        if (source.HasErrorsUnder(path)) return;
        source.Add(node, path,
            $"{train.GradAccumSteps} micro-batches cannot split a batch_size of {train.BatchSize} (each needs an example): set grad_accum_steps to at most {train.BatchSize}, or raise batch_size");
    }

    /// <summary>Stage kinds that run without a teacher, so a recipe of only these may leave the teacher out.</summary>
    private static readonly HashSet<string> TeacherlessStages = new(StringComparer.Ordinal) { "baseline", "export" };

    private static void CheckTeacher(Recipe recipe, RecipeSource source)
    {
        bool found = source.TryGetSource(recipe.Teacher, out var teacherNode, out _);
        if (!found)
        {
            foreach (var stage in recipe.Stages.Where(s => !TeacherlessStages.Contains(s.Kind)))
            {
                var (node, path) = source.Locate(stage, "kind");
                source.Add(node, path,
                    $"stage '{stage.DisplayName}' ({stage.Kind}) needs a teacher, and the recipe has no teacher section: add one (model + config, pretrained or checkpoint); only baseline and export stages run without a teacher");
            }
            if (recipe.Student.InitFromTeacher is not null)
            {
                var (node, path) = source.Locate(recipe.Student, "init_from_teacher");
                source.Add(node, path, "student.init_from_teacher needs a teacher, and the recipe has no teacher section: add one, or give student.model and student.config");
            }
            return;
        }
        YamlNode? checkpointNode = found ? YamlNodes.Find(teacherNode, "checkpoint").Value : null;
        YamlNode? pretrainedNode = found ? YamlNodes.Find(teacherNode, "pretrained").Value : null;
        bool hasCheckpoint = checkpointNode is not null && !YamlNodes.IsNull(checkpointNode);
        // A HF folder is a ready teacher; with a train_teacher stage, that stage fine-tunes it.
        bool hasPretrained = pretrainedNode is not null && !YamlNodes.IsNull(pretrainedNode);
        bool trained = false;
        foreach (var stage in recipe.Stages)
        {
            if (stage is TrainTeacherStageSpec)
            {
                if (hasCheckpoint)
                {
                    var (node, path) = source.Locate(stage, "kind");
                    var at = source.Error(checkpointNode, "teacher.checkpoint", "");
                    string where = at.Line > 0 ? $"line {at.Line}" : at.File;
                    source.Add(node, path,
                        $"a train_teacher stage and teacher.checkpoint ({where}) are both given: remove this stage to distill from the checkpoint, or remove teacher.checkpoint to train the teacher here");
                }
                trained = true;
            }
            else if (stage is DistillStageSpec)
            {
                var (kindNode, kindPath) = source.Locate(stage, "kind");
                if (!hasCheckpoint && !hasPretrained && !trained)
                    source.Add(kindNode, kindPath,
                        "a distill stage needs a teacher: add a 'kind: train_teacher' stage before it, or set teacher.checkpoint to trained weights (or teacher.pretrained to a HF folder)");
                if (recipe.Distill.Terms.Count == 0 && !source.HasErrorsUnder("distill"))
                {
                    var (termsNode, _) = source.Locate(recipe.Distill, "terms");
                    bool termsGiven = YamlNodes.Find(source.TryGetSource(recipe.Distill, out var distillNode, out _) ? distillNode : null, "terms").Value is not null;
                    source.Add(termsGiven ? termsNode : kindNode, termsGiven ? "distill.terms" : kindPath,
                        "a distill stage needs at least one loss term in distill.terms, e.g. '- kind: soft_target'");
                }
            }
        }
    }
}
