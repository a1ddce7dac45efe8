using System.Text.Json;

namespace Distill.Bench;

/// <summary>A model of a bench job: family key (<c>cnn</c>, <c>bert</c>, <c>vit</c>) and its config as Distill serialises it (HF config keys).</summary>
public sealed record BenchModel(string Family, JsonElement Config);
