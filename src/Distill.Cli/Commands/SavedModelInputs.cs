using Distill.Data;
using Distill.Models;
using Distill.Recipes;

namespace Distill.Cli.Commands;

/// <summary>What <c>eval</c> and <c>predict</c> check before running a saved model on a recipe's data: that the data yields the inputs the model reads and that the class counts agree.</summary>
internal static class SavedModelInputs
{
    /// <summary>An <see cref="InvalidInputException"/> (exit 2) naming the model and the fix when the model cannot run on the data.</summary>
    public static void Check(DistillModel model, string modelPath, Recipe recipe, int classes)
    {
        var given = DatasetRegistry.Default.Get(recipe.Data.Dataset).Inputs(recipe.Data).Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var reads = ModelRegistry.Default.Get(model.Family).Inputs;
        var missing = reads.Where(r => r != "attention_mask" && r != "token_type_ids" && !given.Contains(r)).ToList();
        if (missing.Count > 0)
            throw new InvalidInputException(modelPath,
                $"{modelPath}: the model ({model.Family}) reads {string.Join(", ", missing)}, which {recipe.Data.Dataset} data does not give ({string.Join(", ", given)}); use the recipe the model was trained with.");
        if (model.NumLabels != classes)
            throw new InvalidInputException(modelPath,
                $"{modelPath}: the model has {model.NumLabels} outputs but the recipe's {recipe.Data.Dataset} data has {classes} classes; use the recipe the model was trained with.");
    }
}
