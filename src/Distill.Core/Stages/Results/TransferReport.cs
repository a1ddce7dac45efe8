using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary>A distill stage's training rows (<c>distill.transfer</c>): labelled, beyond <c>train_limit</c> (unlabelled), augmented variants.</summary>
public sealed record TransferReport(
    [property: JsonPropertyName("labelled")] int Labelled,
    [property: JsonPropertyName("unlabelled")] int Unlabelled,
    [property: JsonPropertyName("augmented")] int Augmented);
