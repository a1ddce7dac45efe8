using Distill.Recipes;
using Xunit;

namespace Distill.Tests.Ctc;

/// <summary>A tiny CTC run on fsdd_words: wav2vec2 CTC teacher and student, a few steps on a few clips.</summary>
internal static class CtcRecipes
{
    private static string Model(int conv, int hidden, int layers) => $"""
          model: wav2vec2
          config:
            architectures: [Wav2Vec2ForCTC]
            vocab_size: 20
            ctc_loss_reduction: mean
            ctc_zero_infinity: true
            conv_dim: [{conv}, {conv}, {conv}]
            conv_kernel: [10, 4, 4]
            conv_stride: [5, 4, 4]
            feat_extract_norm: layer
            do_stable_layer_norm: true
            hidden_size: {hidden}
            num_hidden_layers: {layers}
            num_attention_heads: 2
            intermediate_size: {hidden * 2}
            num_conv_pos_embeddings: 4
            num_conv_pos_embedding_groups: 2
            apply_spec_augment: false
        """;

    /// <summary>Teacher, baseline and distill (frame KD + hidden_mse) for <paramref name="steps"/> steps each, written beside <paramref name="root"/>.</summary>
    public static Recipe TinyRun(string root, int steps = 2)
    {
        Directory.CreateDirectory(root);
        string path = Path.Combine(root, "ctc.yaml");
        File.WriteAllText(path, $"""
            teacher:
            {Model(16, 16, 2)}
            student:
            {Model(8, 8, 1)}
            data:
              dataset: fsdd_words
              path: {TestPaths.Data}/fsdd
              train_limit: 16
              eval_limit: 8
              eval_batch_size: 8
              prefetch: 0
            distill:
              terms:
                - kind: ctc_soft_target
                  name: kd
                  temperature: 2
                  alpha: 0.5
                - kind: hidden_mse
                  name: hidden
                  layers: uniform
            train:
              steps: {steps}
              batch_size: 8
              lr: 0.001
              histogram_every: null
            output:
              tensorboard: true
            stages:
              - kind: train_teacher
                name: teacher
              - kind: baseline
              - kind: distill
            """);
        var (recipe, errors) = RecipeValidation.Check(path);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        return recipe!;
    }
}
