using Distill.Recipes;

namespace Distill.Tests.Design;

/// <summary>Recipe texts with a design stage, written to a temporary folder (data paths are absolute).</summary>
internal static class DesignRecipes
{
    public static string MnistDir => Path.Combine(TestPaths.RepoRoot, "data", "mnist");

    public static string Models(string family) => family switch
    {
        "cnn" => """
            teacher: { model: cnn, config: { channels: [8, 16], hidden_size: 32 } }
            student: { model: cnn, config: { channels: [4, 8], hidden_size: 16 } }
            """,
        "bert" => """
            teacher: { model: bert, config: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 128, max_position_embeddings: 128 } }
            student: { model: bert, config: { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 128 } }
            """,
        "wav2vec2" => """
            teacher: { model: wav2vec2, config: { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 37, conv_dim: [32, 32], conv_kernel: [10, 3], conv_stride: [5, 2], num_conv_pos_embeddings: 16, num_conv_pos_embedding_groups: 4 } }
            student: { model: wav2vec2, config: { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 37, conv_dim: [32, 32], conv_kernel: [10, 3], conv_stride: [5, 2], num_conv_pos_embeddings: 16, num_conv_pos_embedding_groups: 4 } }
            """,
        "mlp" => """
            teacher: { model: mlp }
            student: { model: mlp }
            """,
        _ => throw new ArgumentException(family),
    };

    public static string Data(string family) => family switch
    {
        "bert" => $"data: {{ dataset: sst2, path: '{Path.Combine(TestPaths.Data, "sst2")}', tokenizer: '{Path.Combine(TestPaths.Data, "bert-base-uncased-tokenizer")}', train_split: train, eval_split: dev, max_length: 32 }}",
        "wav2vec2" => $"data: {{ dataset: fsdd, path: '{Path.Combine(TestPaths.Data, "fsdd")}' }}",
        _ => $"data: {{ dataset: mnist, path: '{MnistDir}' }}",
    };

    /// <summary>A whole recipe: models and data of <paramref name="family"/>, a teacher stage, then <paramref name="stages"/> (YAML list items).</summary>
    public static string Text(string family, string stages) =>
        Models(family) + "\n" + Data(family) + "\n" +
        "train: { steps: 2, batch_size: 8 }\n" +
        "stages:\n  - kind: train_teacher\n" + stages;

    /// <summary>Writes the recipe to a fresh temporary file and loads it.</summary>
    public static RecipeLoadResult Load(string family, string stages)
    {
        string dir = Path.Combine(Path.GetTempPath(), "distill-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "recipe.yaml");
        File.WriteAllText(path, Text(family, stages));
        try { return RecipeLoader.Load(path); }
        finally { Directory.Delete(dir, true); }
    }
}
