using Distill.Caching;
using Distill.Losses;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// Teacher → student objective: the frozen teacher runs in eval mode under no_grad, the student trains, and the total
/// loss is Σ weight_i · term_i over the recipe's named terms. Hint projectors train with the student.
/// <para>Memory: the teacher's forward pass runs in its own dispose scope, and only the outputs the terms read
/// (<see cref="TeacherNeeds"/>: logits, tapped features, mapped hidden states and attention maps) are moved out of it, so
/// every other teacher activation is freed before the student's forward pass instead of at the end of the step.</para>
/// <para>With a <see cref="TeacherCache"/>, the teacher does not run at all: its outputs are read from the cache by the
/// batch's example indices.</para>
/// </summary>
public sealed class DistillObjective : IObjective, IDisposable
{
    private readonly DistillModel _teacher;
    private readonly IReadOnlyList<ILossTerm> _terms;
    private readonly FeatureTaps _teacherTaps;
    private FeatureTaps? _studentTaps;
    private DistillModel? _tappedStudent;
    private readonly bool _studentAttentions;
    private readonly TeacherNeeds _needs;
    private readonly TeacherCache? _cache;

    /// <param name="teacher">Frozen teacher (ignored for the forward pass when <paramref name="cache"/> is given).</param>
    /// <param name="terms">The loss terms; at least one.</param>
    /// <param name="cache">Cached teacher outputs; the training batches must then carry <see cref="TeacherCache.IndexInput"/>.</param>
    public DistillObjective(DistillModel teacher, IReadOnlyList<ILossTerm> terms, TeacherCache? cache = null)
    {
        if (terms.Count == 0) throw new ArgumentException("A distillation objective needs at least one loss term.", nameof(terms));
        _teacher = teacher;
        _terms = terms;
        _studentAttentions = terms.Any(t => t.NeedsAttentions);
        _needs = TeacherNeeds.From(terms);
        _cache = cache;
        Freeze(teacher);
        _teacherTaps = FeatureTaps.Attach(teacher, _needs.Taps);
        var withParams = terms.Where(t => t.Trainable is not null).ToList();
        Trainable = withParams.Count == 0 ? null : new ProjectorSet(withParams.Select(t => (t.Name, t.Trainable!)));
    }

    public nn.Module? Trainable { get; }

    public IReadOnlyList<ILossTerm> Terms => _terms;

    /// <summary>The teacher never trains: eval mode (no dropout), no gradients, parameters excluded from every optimizer.</summary>
    private static void Freeze(DistillModel teacher)
    {
        teacher.eval();
        foreach (var p in teacher.parameters()) p.requires_grad = false;
    }

    public LossBreakdown Compute(DistillModel student, Batch batch)
    {
        if (!ReferenceEquals(student, _tappedStudent))
        {
            _studentTaps?.Dispose();
            _studentTaps = FeatureTaps.Attach(student, _terms.SelectMany(t => t.StudentTaps));
            _tappedStudent = student;
        }
        student.OutputAttentions = _studentAttentions;
        var (teacherOut, teacherFeatures) = _cache is not null
            ? _cache.Lookup(batch, batch.Inputs.Values.First().device)
            : RunTeacher(batch);
        var studentOut = student.call(batch);
        var context = new DistillContext(batch, studentOut, teacherOut, _studentTaps!.Features, teacherFeatures);

        Tensor? total = null;
        var values = new List<(string, Tensor)>(_terms.Count);
        foreach (var term in _terms)
        {
            var value = term.Compute(context);
            values.Add((term.Name, value));
            var weighted = value * term.Weight;
            total = total is null ? weighted : total + weighted;
        }
        return new LossBreakdown(total!, values);
    }

    /// <summary>
    /// The teacher's forward pass in a scope of its own: the outputs the terms read are moved to the caller's (the step's)
    /// scope, all other activations are freed when this returns.
    /// </summary>
    private CachedTeacherOutput RunTeacher(Batch batch)
    {
        _teacher.eval();
        _teacher.OutputAttentions = _needs.AttentionLayers.Count > 0;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var output = _teacher.call(InTeacherPrecision(batch));
        var kept = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        Tensor Keep(Tensor t)
        {
            // Only tensors created by the teacher's pass move out; one from an outer scope (a model that returns its input
            // as hidden state 0) already lives to the end of the step, and moving it further out would leak it.
            if (kept.Add(t) && scope.DisposablesView.Contains(t)) t.MoveToOuterDisposeScope();
            return t;
        }

        var features = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (path, t) in _teacherTaps.Features) features[path] = Keep(t);
        var hidden = _needs.HiddenLayers.Where(i => i < output.HiddenStates.Count).ToDictionary(i => i, i => Keep(output.HiddenStates[i]));
        var attentions = _needs.AttentionLayers.Where(i => i < output.Attentions.Count).ToDictionary(i => i, i => Keep(output.Attentions[i]));
        var needed = new ModelOutput(Keep(output.Logits))
        {
            HiddenStates = new KeptLayers(output.HiddenStates.Count, hidden, "hidden state"),
            Attentions = new KeptLayers(output.Attentions.Count, attentions, "attention map"),
        };
        return new CachedTeacherOutput(needed, features);
    }

    /// <summary>The batch with its floating-point inputs in the teacher's dtype (a bf16 teacher with an fp32 student, or the reverse).</summary>
    private Batch InTeacherPrecision(Batch batch)
    {
        var dtype = _teacher.parameters().FirstOrDefault()?.dtype;
        if (dtype is not { } d || !batch.Inputs.Values.Any(t => t.is_floating_point() && t.dtype != d)) return batch;
        return new Batch(batch.Inputs.ToDictionary(kv => kv.Key, kv => kv.Value.is_floating_point() ? kv.Value.to_type(d) : kv.Value), batch.Labels);
    }

    public void Dispose()
    {
        _teacherTaps.Dispose();
        _studentTaps?.Dispose();
    }
}
