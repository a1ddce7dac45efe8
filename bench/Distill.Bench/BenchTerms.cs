namespace Distill.Bench;

/// <summary>
/// The distillation terms of a bench job, summed in this order with their weights: soft targets (always), and optionally
/// one FitNets hint, one TinyBERT hidden-state MSE and one attention-map term. Layer mappings are resolved to explicit
/// pairs by the orchestrator, so the peer does not need Distill's mapping rules.
/// </summary>
public sealed record BenchTerms(BenchSoftTarget SoftTarget, BenchHint? Hint, BenchHiddenMse? Hidden = null, BenchAttention? Attention = null);
