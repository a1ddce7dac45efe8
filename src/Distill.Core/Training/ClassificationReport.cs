using System.Text.Json.Nodes;

namespace Distill.Training;

/// <summary>
/// What <c>distill eval</c> reports for one split: accuracy, macro-F1 and mean cross-entropy exactly as the run's
/// evaluation computes them (<see cref="Evaluator.Confusion"/>), per-class precision, recall, F1 and support, and the
/// confusion matrix (rows: true class, columns: predicted class, in label order).
/// </summary>
public sealed record ClassificationReport(string Split, IReadOnlyList<string> ClassNames, ClassificationMetrics Metrics, double Loss)
{
    public double Accuracy => Metrics.Accuracy;

    public double MacroF1 => Metrics.MacroF1;

    /// <summary>The report as JSON: <c>accuracy</c>, <c>macro_f1</c>, <c>loss</c>, <c>examples</c>, <c>labels</c>,
    /// <c>per_class</c> (<c>{name: {precision, recall, f1, support}}</c>) and <c>confusion_matrix</c>.</summary>
    public JsonObject ToJson()
    {
        var perClass = new JsonObject();
        var matrix = new JsonArray();
        for (int c = 0; c < ClassNames.Count; c++)
        {
            perClass[ClassNames[c]] = new JsonObject
            {
                ["precision"] = Metrics.Precision(c),
                ["recall"] = Metrics.Recall(c),
                ["f1"] = Metrics.F1(c),
                ["support"] = Metrics.Support(c),
            };
            var row = new JsonArray();
            for (int p = 0; p < ClassNames.Count; p++) row.Add(Metrics.Confusion(c, p));
            matrix.Add(row);
        }
        return new JsonObject
        {
            ["split"] = Split,
            ["accuracy"] = Accuracy,
            ["macro_f1"] = MacroF1,
            ["loss"] = double.IsFinite(Loss) ? Loss : null,
            ["examples"] = Metrics.Count,
            ["labels"] = new JsonArray([.. ClassNames.Select(n => JsonValue.Create(n))]),
            ["per_class"] = perClass,
            ["confusion_matrix"] = matrix,
        };
    }
}
