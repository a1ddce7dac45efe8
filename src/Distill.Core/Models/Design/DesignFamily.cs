using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Design;

/// <summary>
/// What the design search needs to know about one model family: which search keys apply and which combinations are
/// legal, how a candidate config is made from the student's base config, the synthetic deployment batch, and the
/// per-block cost features the <c>Design/LatencyModel</c> is fitted on (counts of blocks, multiply-accumulates and
/// element-wise work per batch, computed from the config and the deployment shape).
/// </summary>
public abstract class DesignFamily
{
    /// <summary>Model family key (<c>cnn</c>, <c>bert</c>, ...).</summary>
    public abstract string Family { get; }

    /// <summary>Keys of <c>search:</c> this family understands.</summary>
    public abstract IReadOnlyList<string> SearchKeys { get; }

    /// <summary>Names of the cost features, in the order of <see cref="Features"/>.</summary>
    public abstract IReadOnlyList<string> FeatureNames { get; }

    /// <summary>
    /// Problems of a search space for this family (keys relative to the stage, e.g. <c>search.heads</c>): keys that do
    /// not apply, values that no legal candidate can use, an empty or oversized space.
    /// </summary>
    public IEnumerable<(string Key, string Message)> Validate(SearchSpaceSpec space, IModelConfig baseConfig)
    {
        var problems = new List<(string, string)>();
        foreach (var (key, _) in space.Given())
            if (!SearchKeys.Contains(key))
                problems.Add(($"search.{key}", $"does not apply to the {Family} family; its search keys are {string.Join(", ", SearchKeys)}"));
        if (problems.Count == 0) problems.AddRange(ValidateValues(space, baseConfig));
        if (problems.Count > 0) return problems;
        int count = Enumerate(space, baseConfig).Take(space.MaxCandidates + 1).Count();
        if (count == 0)
            problems.Add(("search", $"no candidate satisfies the {Family} family's constraints; widen the ranges"));
        else if (count > space.MaxCandidates)
            problems.Add(("search", $"more than {space.MaxCandidates} candidates (max_candidates); narrow the ranges or raise search.max_candidates"));
        return problems;
    }

    /// <summary>Family rules on the values (only called when every given key applies).</summary>
    protected abstract IEnumerable<(string Key, string Message)> ValidateValues(SearchSpaceSpec space, IModelConfig baseConfig);

    /// <summary>Every legal candidate config: the base config with the searched dimensions replaced.</summary>
    public abstract IEnumerable<IModelConfig> Enumerate(SearchSpaceSpec space, IModelConfig baseConfig);

    /// <summary>Problems of the deployment section for this family (keys relative to the stage, e.g. <c>deployment.audio_length</c>).</summary>
    /// <param name="deployment">The stage's <c>deployment:</c>.</param>
    /// <param name="baseConfig">The student config the candidates derive from.</param>
    /// <param name="dataMaxLength">The recipe's <c>data.max_length</c> (text: the default sequence length).</param>
    public abstract IEnumerable<(string Key, string Message)> ValidateDeployment(DeploymentSpec deployment, IModelConfig baseConfig, int dataMaxLength);

    /// <summary>The deployment shape with lengths filled in from the recipe (call after <see cref="ValidateDeployment"/> passed).</summary>
    public abstract DeploymentShape Resolve(DeploymentSpec deployment, IModelConfig baseConfig, int dataMaxLength, int threads, string device);

    /// <summary>The per-batch cost features of a config at a deployment shape (see <see cref="FeatureNames"/>).</summary>
    public abstract double[] Features(IModelConfig config, DeploymentShape shape);

    /// <summary>Multiply-accumulates of one forward pass of a batch: the compute proxy used to spread the timed sample.</summary>
    public abstract double Macs(IModelConfig config, DeploymentShape shape);

    /// <summary>Short description (<c>L4 H256 A4 I1024</c>).</summary>
    public abstract string Label(IModelConfig config);

    /// <summary>The searched dimensions of a config, for summary.json.</summary>
    public abstract IReadOnlyDictionary<string, object> Dims(IModelConfig config);

    /// <summary>The tensors of a deployment batch.</summary>
    public abstract IReadOnlyList<DesignInput> Inputs(IModelConfig config, DeploymentShape shape);

    /// <summary>
    /// True for lookup-table parameters (word and position embeddings) that cost memory but almost no compute; they are
    /// left out of the capacity measure, as in Kaplan et al. 2020's non-embedding parameter count.
    /// </summary>
    public virtual bool IsEmbeddingTable(string parameterName) => false;

    /// <summary>A deterministic, non-constant batch for timing (values do not change the cost of dense kernels).</summary>
    public Batch SyntheticBatch(IModelConfig config, DeploymentShape shape, Device device)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var input in Inputs(config, shape))
        {
            long n = input.Shape.Aggregate(1L, (a, b) => a * b);
            tensors[input.Name] = input.DType is ScalarType.Float32 or ScalarType.Float64 or ScalarType.BFloat16 or ScalarType.Float16
                ? (torch.arange(n, ScalarType.Float32).remainder(17) / 17.0 - 0.5).reshape(input.Shape).to(input.DType).to(device)
                : input.Name == "token_type_ids"
                    ? torch.zeros(input.Shape, input.DType, device)
                    : torch.ones(input.Shape, input.DType, device);
        }
        return new Batch(tensors, null);
    }

    /// <summary>The inputs as one line, part of the profile cache key.</summary>
    public string InputsText(IModelConfig config, DeploymentShape shape) => string.Join("; ", Inputs(config, shape));

    /// <summary>Total and capacity (non-embedding-table) parameter counts, from a copy built on CPU and dropped.</summary>
    public (long Params, long Capacity) CountParameters(IModelConfig config) => Inspect(config, null).Counts;

    /// <summary>
    /// Parameter counts (as <see cref="CountParameters"/>) and whether the model has every module path in
    /// <paramref name="requiredModules"/> (the student modules that hint terms name), from one CPU build.
    /// </summary>
    public ((long Params, long Capacity) Counts, bool HasModules) Inspect(IModelConfig config, IReadOnlySet<string>? requiredModules)
    {
        // Built on CPU, not by switching torch's process-wide default device to meta (which made tensors that other
        // threads created meanwhile meta tensors); the global generator's state is put back so nothing else shifts.
        using var rng = torch.random.get_rng_state();
        try
        {
            using var model = ModelRegistry.Default.Get(Family).Build(config);
            long total = 0, capacity = 0;
            foreach (var (name, p) in model.named_parameters())
            {
                total += p.numel();
                if (!IsEmbeddingTable(name)) capacity += p.numel();
            }
            bool hasModules = requiredModules is not { Count: > 0 }
                || requiredModules.IsSubsetOf(model.named_modules().Select(m => m.name));
            return ((total, capacity), hasModules);
        }
        finally
        {
            torch.random.set_rng_state(rng);
        }
    }

    /// <summary>The values of a search key, or the single base value when the key was not given.</summary>
    protected static IReadOnlyList<int> Or(IntChoices? given, int baseValue) => given?.Values ?? [baseValue];

    protected static string Join(IEnumerable<int> values) => string.Join(", ", values);
}
