namespace Distill.Design;

/// <summary>How a <c>design</c> stage picks among the candidates that meet the budget.</summary>
public enum PickKind
{
    /// <summary>The most capacity (non-embedding parameters) among the candidates measured to be under the latency budget.</summary>
    Capacity,

    /// <summary>The best accuracy (on held-out training examples) after a short proxy distillation of the <c>proxy.top_k</c> largest candidates under budget.</summary>
    Proxy,

    /// <summary>
    /// The comparison rule HAKD argues against: no measurement, latency assumed proportional to parameter count, anchored
    /// at the teacher (parameter budget = teacher capacity × latency budget / teacher latency); the largest candidate under
    /// that parameter budget. Its measured latency is still reported and checked.
    /// </summary>
    ParamRule,
}
