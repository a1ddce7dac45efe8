using Distill.Losses;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// Teacher → student objective: the frozen teacher runs in eval mode under no_grad, the student trains, and the total
/// loss is Σ weight_i · term_i over the recipe's named terms. Hint projectors train with the student.
/// </summary>
public sealed class DistillObjective : IObjective, IDisposable
{
    private readonly DistillModel _teacher;
    private readonly IReadOnlyList<ILossTerm> _terms;
    private readonly FeatureTaps _teacherTaps;
    private FeatureTaps? _studentTaps;
    private DistillModel? _tappedStudent;
    private readonly bool _needsAttentions;

    public DistillObjective(DistillModel teacher, IReadOnlyList<ILossTerm> terms)
    {
        if (terms.Count == 0) throw new ArgumentException("A distillation objective needs at least one loss term.", nameof(terms));
        _teacher = teacher;
        _terms = terms;
        _needsAttentions = terms.Any(t => t.NeedsAttentions);
        Freeze(teacher);
        _teacherTaps = FeatureTaps.Attach(teacher, terms.SelectMany(t => t.TeacherTaps));
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
        _teacher.eval();
        _teacher.OutputAttentions = _needsAttentions;
        student.OutputAttentions = _needsAttentions;
        ModelOutput teacherOut;
        using (torch.no_grad()) teacherOut = _teacher.call(batch);
        var studentOut = student.call(batch);
        var context = new DistillContext(batch, studentOut, teacherOut, _studentTaps!.Features, _teacherTaps.Features);

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

    public void Dispose()
    {
        _teacherTaps.Dispose();
        _studentTaps?.Dispose();
    }
}
