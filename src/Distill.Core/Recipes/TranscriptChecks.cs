using Distill.Data;
using Distill.Models.Wav2Vec2;

namespace Distill.Recipes;

/// <summary>
/// The checks of a recipe on transcript data (a dataset kind with a <see cref="DatasetKind.Vocabulary"/>): the
/// vocabulary can be read or built, and each model is a CTC head over it — <c>architectures: [Wav2Vec2ForCTC]</c>,
/// <c>vocab_size</c> = the vocabulary's size, <c>pad_token_id</c> = its <c>&lt;pad&gt;</c> (the CTC blank).
/// </summary>
internal static class TranscriptChecks
{
    /// <summary>
    /// Why <c>distill.cache</c> is refused on transcript data: the cache stores text outputs at each example's token
    /// count, and knows nothing of audio frame counts (the attention_mask counts samples, the logits frames).
    /// </summary>
    public const string NoCache = "distill.cache is not supported on transcript (CTC) data: the teacher's per-frame logits are not cached at each clip's frame count yet; remove distill.cache (the teacher then runs beside the student)";

    /// <summary>
    /// Stage settings that rank students by accuracy, which transcript data does not have (it is scored by WER, lower
    /// is better): the quantize stage's <c>max_accuracy_drop</c> search and the design stage's <c>pick: proxy</c>.
    /// </summary>
    public static IEnumerable<(StageSpec Stage, string Key, string Message)> AccuracyOnlyStages(Recipe recipe)
    {
        foreach (var stage in recipe.Stages)
        {
            if (stage is QuantizeStageSpec { MaxAccuracyDrop: not null })
                yield return (stage, "max_accuracy_drop", $"the {recipe.Data.Dataset} data is scored by WER, not accuracy, so the accuracy-drop search cannot run on it; give target_bytes or target_ratio instead");
            if (stage is DesignStageSpec { Pick: Design.PickKind.Proxy })
                yield return (stage, "pick", $"pick: proxy ranks candidates by accuracy, and the {recipe.Data.Dataset} data is scored by WER; use pick: capacity or param_rule");
        }
    }

    public static IEnumerable<(ModelSpec Spec, string Role, string Message)> ModelProblems(Recipe recipe, Text.CtcVocabulary vocabulary)
    {
        var roles = recipe.HasTeacher ? new[] { (recipe.Teacher, "teacher"), (recipe.Student, "student") } : [(recipe.Student, "student")];
        foreach (var (spec, role) in roles)
        {
            if (spec.Pretrained is not null || spec.Config is null) continue; // an HF folder's own config is read when the run loads it
            if (spec.Config is not Wav2Vec2Config w || w.Architecture != Wav2Vec2Config.CtcArchitecture)
            {
                yield return (spec, role, $"the {recipe.Data.Dataset} data holds transcripts (CTC labels), so the {role} needs a CTC head: model: wav2vec2 with architectures: [{Wav2Vec2Config.CtcArchitecture}]");
                continue;
            }
            if (w.VocabSize != vocabulary.Count)
                yield return (spec, role, $"the {role}'s vocab_size is {w.VocabSize} but the data's character vocabulary has {vocabulary.Count} tokens ({string.Join(" ", vocabulary.Tokens)}); set vocab_size: {vocabulary.Count}");
            else if (w.PadTokenId != vocabulary.PadId)
                yield return (spec, role, $"the {role}'s pad_token_id (the CTC blank) is {w.PadTokenId} but the vocabulary's <pad> is {vocabulary.PadId}; set pad_token_id: {vocabulary.PadId}");
        }
    }
}
