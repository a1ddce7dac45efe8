using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Cnn;

/// <summary>
/// Conv blocks → flatten → <c>fc</c> (Linear + ReLU) → <c>classifier</c>.
/// Module paths: <c>blocks.{i}</c>, <c>blocks.{i}.conv</c>, <c>blocks.{i}.norm</c>, <c>fc</c>, <c>classifier</c>.
/// Hidden states: the input image, then each block's output (B, C, H, W).
/// </summary>
public sealed class CnnModel : DistillModel
{
    private readonly ModuleList<ConvBlock> blocks;
    private readonly Linear fc;
    private readonly Linear classifier;
    private readonly SeededDropout dropout;
    private readonly CnnConfig _config;

    public CnnModel(CnnConfig config) : base("cnn")
    {
        _config = config;
        blocks = new ModuleList<ConvBlock>();
        int inCh = config.InChannels;
        foreach (int ch in config.Channels)
        {
            blocks.Add(new ConvBlock(inCh, ch));
            inCh = ch;
        }
        fc = ParamInit.Redraw(nn.Linear(inCh * config.FinalSide * config.FinalSide, config.HiddenSize));
        classifier = ParamInit.Redraw(nn.Linear(config.HiddenSize, config.NumLabels));
        dropout = new SeededDropout(config.Dropout);
        RegisterComponents();
    }

    public override string Family => "cnn";
    public override int NumHiddenLayers => _config.Channels.Count;
    public override int NumLabels => _config.NumLabels;
    public override IModelConfig Config => _config;

    public override ModelOutput forward(Batch batch)
    {
        var x = batch["pixel_values"]; // (B, C, H, W)
        if (x.dim() != 4 || x.shape[1] != _config.InChannels || x.shape[2] != _config.ImageSize || x.shape[3] != _config.ImageSize)
            throw new ArgumentException(
                $"cnn: expected pixel_values of shape (B, {_config.InChannels}, {_config.ImageSize}, {_config.ImageSize}), got ({string.Join(", ", x.shape)}).");
        var hidden = new List<Tensor> { x };
        foreach (var block in blocks)
        {
            x = block.call(x);
            hidden.Add(x);
        }
        var h = dropout.call(nn.functional.relu(fc.call(x.flatten(1)))); // (B, hidden_size)
        return new ModelOutput(classifier.call(h)) { HiddenStates = hidden };
    }
}
