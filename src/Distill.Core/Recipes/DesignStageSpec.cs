using System.Text.RegularExpressions;
using Distill.Design;
using Distill.Models.Design;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// <c>kind: design</c> — hardware-aware student design (HAKD, Turner et al.): times candidate students from
/// <c>search</c> on this device at the <c>deployment</c> shape, fits a latency model, picks the candidate expected to
/// be most accurate within <c>budget</c>, and makes it the student of the stages that follow (initialised from the
/// teacher where shapes allow). Writes a table, <c>design/&lt;stage&gt;/design.svg</c> and <c>design.png</c>, and TensorBoard text, scalars and
/// the plot as an image.
/// </summary>
public sealed partial record DesignStageSpec : StageSpec, IRecipeCheckedSpec
{
    public DesignStageSpec() => Kind = "design";

    public SearchSpaceSpec Search { get; init; } = new();

    public DeploymentSpec Deployment { get; init; } = new();

    [RequiredKey] public BudgetSpec Budget { get; init; } = new();

    public MeasureSpec Measure { get; init; } = new();

    /// <summary><c>capacity</c> (default), <c>proxy</c> or <c>param_rule</c> (the comparison rule; see <see cref="PickKind"/>).</summary>
    public PickKind Pick { get; init; } = PickKind.Capacity;

    public ProxySpec Proxy { get; init; } = new();

    /// <summary>Folder of the latency profiles (one file per device fingerprint), relative to the current directory;
    /// null = <c>~/.cache/distill/profiles</c>.</summary>
    public string? Profile { get; init; }

    /// <summary>Initialise the designed student from the teacher by the rules of <c>init_from_teacher</c> (layers spread uniformly, narrower widths truncated) wherever a layer or module fits (see <see cref="Models.Init.TeacherInit.ApplyWhereFits"/>).</summary>
    public bool InitFromTeacher { get; init; } = true;

    [GeneratedRegex(@"^(cpu|cuda(:[0-9]+)?)$")]
    private static partial Regex DeviceText();

    public IEnumerable<(string Key, string Message)> Check(Recipe recipe)
    {
        if (recipe.Student.Config is not { } baseConfig) yield break;
        if (!DesignFamilies.TryGet(recipe.Student.Model, out var family))
        {
            yield return ("kind", $"a design stage cannot search the '{recipe.Student.Model}' family (student.model); it supports {string.Join(", ", DesignFamilies.Keys.Order())}");
            yield break;
        }
        var problems = family.Validate(Search, baseConfig).Concat(family.ValidateDeployment(Deployment, baseConfig, recipe.Data.MaxLength)).ToList();
        foreach (var p in problems) yield return p;
        if (Deployment.Device is { } device && !DeviceText().IsMatch(device))
            yield return ("deployment.device", $"expected cpu, cuda or cuda:N, got '{device}'");
        if (Deployment.Runtime == DeploymentRuntime.Onnxruntime && (Deployment.Device ?? recipe.Train.Device).StartsWith("cuda", StringComparison.Ordinal))
            yield return ("deployment.runtime", "onnxruntime times candidates on the CPU; set deployment.device: cpu (or runtime: torchsharp for CUDA)");
        if (Deployment.Runtime == DeploymentRuntime.Torchsharp && Deployment.OnnxPrecision != OnnxPrecision.Fp32)
            yield return ("deployment.onnx_precision", "applies only with deployment.runtime: onnxruntime; remove it or set runtime: onnxruntime");
        if (problems.Count == 0)
        {
            int candidates = family.Enumerate(Search, baseConfig).Take(Measure.MaxMeasured + 1).Count();
            int needed = family.FeatureNames.Count + 1;
            if (Measure.MaxMeasured < needed && candidates > Measure.MaxMeasured)
                yield return ("measure.max_measured",
                    $"{Measure.MaxMeasured} timed candidates cannot fit the {family.FeatureNames.Count} cost features of the {family.Family} latency model ({string.Join(", ", family.FeatureNames)}); time at least {needed}");
        }
        if (Pick == PickKind.ParamRule && recipe.Teacher.Model != recipe.Student.Model)
            yield return ("pick", $"param_rule anchors at the teacher's measured latency at the student's deployment shape, so the teacher must be of the student's family ({recipe.Student.Model}), not '{recipe.Teacher.Model}'; use pick: capacity");
        if (Budget.Params is { } maxParams && Budget.Bytes is { } maxBytes && maxBytes < maxParams * 4)
            yield return ("budget.bytes", $"{maxBytes:N0} bytes hold fewer than the {maxParams:N0} fp32 parameters of budget.params; give one of them, or make them agree");
    }
}
