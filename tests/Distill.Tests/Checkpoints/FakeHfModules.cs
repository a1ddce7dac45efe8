using Distill.Models.Hf;
using System.Text.Json;
using Distill.Hf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Tests.Checkpoints;

// Hand-built TorchSharp modules whose registered field names reproduce HF's BERT state-dict keys
// (bert.embeddings.LayerNorm.weight, bert.encoder.layer.0.attention.self.query.weight, ...). They have no forward:
// only the key layout matters for loading and exporting. The real BERT lives in Models/ (another helper's work).
#pragma warning disable IDE1006 // HF names

internal sealed record FakeBertConfig(int Vocab = 30522, int Hidden = 32, int Layers = 2, int Intermediate = 37,
    int MaxPositions = 512, int TypeVocab = 2, int NumLabels = 2)
{
    public static FakeBertConfig FromJson(string configPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
        var r = doc.RootElement;
        return new FakeBertConfig(r.GetProperty("vocab_size").GetInt32(), r.GetProperty("hidden_size").GetInt32(),
            r.GetProperty("num_hidden_layers").GetInt32(), r.GetProperty("intermediate_size").GetInt32(),
            r.GetProperty("max_position_embeddings").GetInt32(), r.GetProperty("type_vocab_size").GetInt32(),
            r.TryGetProperty("id2label", out var l) ? l.EnumerateObject().Count() : 2);
    }
}

internal sealed class FakeBertEmbeddings : nn.Module
{
    private readonly Embedding word_embeddings, position_embeddings, token_type_embeddings;
    private readonly TorchSharp.Modules.LayerNorm LayerNorm;

    public FakeBertEmbeddings(FakeBertConfig c) : base("embeddings")
    {
        word_embeddings = nn.Embedding(c.Vocab, c.Hidden);
        position_embeddings = nn.Embedding(c.MaxPositions, c.Hidden);
        token_type_embeddings = nn.Embedding(c.TypeVocab, c.Hidden);
        LayerNorm = nn.LayerNorm(c.Hidden);
        RegisterComponents();
    }
}

internal sealed class FakeBertSelfAttention : nn.Module
{
    private readonly Linear query, key, value;

    public FakeBertSelfAttention(FakeBertConfig c) : base("self")
    {
        query = nn.Linear(c.Hidden, c.Hidden);
        key = nn.Linear(c.Hidden, c.Hidden);
        value = nn.Linear(c.Hidden, c.Hidden);
        RegisterComponents();
    }
}

internal sealed class FakeDenseNorm : nn.Module
{
    private readonly Linear dense;
    private readonly TorchSharp.Modules.LayerNorm LayerNorm;

    public FakeDenseNorm(int inFeatures, int outFeatures) : base("output")
    {
        dense = nn.Linear(inFeatures, outFeatures);
        LayerNorm = nn.LayerNorm(outFeatures);
        RegisterComponents();
    }
}

internal sealed class FakeDense : nn.Module
{
    private readonly Linear dense;

    public FakeDense(int inFeatures, int outFeatures) : base("dense")
    {
        dense = nn.Linear(inFeatures, outFeatures);
        RegisterComponents();
    }
}

internal sealed class FakeBertAttention : nn.Module
{
    private readonly FakeBertSelfAttention self;
    private readonly FakeDenseNorm output;

    public FakeBertAttention(FakeBertConfig c) : base("attention")
    {
        self = new FakeBertSelfAttention(c);
        output = new FakeDenseNorm(c.Hidden, c.Hidden);
        RegisterComponents();
    }
}

internal sealed class FakeBertLayer : nn.Module
{
    private readonly FakeBertAttention attention;
    private readonly FakeDense intermediate;
    private readonly FakeDenseNorm output;

    public FakeBertLayer(FakeBertConfig c) : base("layer")
    {
        attention = new FakeBertAttention(c);
        intermediate = new FakeDense(c.Hidden, c.Intermediate);
        output = new FakeDenseNorm(c.Intermediate, c.Hidden);
        RegisterComponents();
    }
}

internal sealed class FakeBertEncoder : nn.Module
{
    private readonly ModuleList<FakeBertLayer> layer = new();

    public FakeBertEncoder(FakeBertConfig c) : base("encoder")
    {
        for (int i = 0; i < c.Layers; i++) layer.Add(new FakeBertLayer(c));
        RegisterComponents();
    }
}

/// <summary>HF BertModel's key layout: embeddings.*, encoder.layer.{i}.*, pooler.dense.*.</summary>
internal sealed class FakeBertModel : nn.Module
{
    private readonly FakeBertEmbeddings embeddings;
    private readonly FakeBertEncoder encoder;
    private readonly FakeDense pooler;

    public FakeBertModel(FakeBertConfig c) : base("FakeBertModel")
    {
        embeddings = new FakeBertEmbeddings(c);
        encoder = new FakeBertEncoder(c);
        pooler = new FakeDense(c.Hidden, c.Hidden);
        RegisterComponents();
    }
}

/// <summary>HF BertForSequenceClassification's layout: bert.* + classifier.*; optionally a distillation-only
/// <c>hint_projector</c> that must never reach an exported HF folder.</summary>
internal sealed class FakeBertForSequenceClassification : nn.Module
{
    private readonly FakeBertModel bert;
    private readonly Linear classifier;
    private readonly Linear? hint_projector;

    public FakeBertForSequenceClassification(FakeBertConfig c, bool withProjector = false) : base("FakeBertForSequenceClassification")
    {
        bert = new FakeBertModel(c);
        classifier = nn.Linear(c.Hidden, c.NumLabels);
        if (withProjector) hint_projector = nn.Linear(c.Hidden, 64);
        RegisterComponents();
    }
}

/// <summary>wav2vec2's positional convolution with legacy weight-norm parameters (weight_g, weight_v).</summary>
internal sealed class FakeLegacyWeightNormConv : nn.Module
{
    private readonly Parameter weight_g, weight_v, bias;

    public FakeLegacyWeightNormConv() : base("conv")
    {
        weight_g = nn.Parameter(torch.zeros(1, 1, 16));
        weight_v = nn.Parameter(torch.zeros(32, 8, 16));
        bias = nn.Parameter(torch.zeros(32));
        RegisterComponents();
    }
}

/// <summary>torch ≥ 2.1 parametrization layout: parametrizations.weight.original0/original1.</summary>
internal sealed class FakeParametrizedConv : nn.Module
{
    private sealed class Originals : nn.Module
    {
        private readonly Parameter original0, original1;

        public Originals() : base("weight")
        {
            original0 = nn.Parameter(torch.zeros(1, 1, 16));
            original1 = nn.Parameter(torch.zeros(32, 8, 16));
            RegisterComponents();
        }
    }

    private sealed class Parametrizations : nn.Module
    {
        private readonly Originals weight = new();

        public Parametrizations() : base("parametrizations") => RegisterComponents();
    }

    private readonly Parametrizations parametrizations = new();
    private readonly Parameter bias;

    public FakeParametrizedConv() : base("conv")
    {
        bias = nn.Parameter(torch.zeros(32));
        RegisterComponents();
    }
}

/// <summary>encoder.pos_conv_embed.conv.* + masked_spec_embed, like Wav2Vec2Model, with either weight-norm layout.</summary>
internal sealed class FakeWav2Vec2 : nn.Module
{
    private sealed class PosConv : nn.Module
    {
        private readonly nn.Module conv;

        public PosConv(bool parametrized) : base("pos_conv_embed")
        {
            conv = parametrized ? new FakeParametrizedConv() : new FakeLegacyWeightNormConv();
            RegisterComponents();
        }
    }

    private sealed class Encoder : nn.Module
    {
        private readonly PosConv pos_conv_embed;

        public Encoder(bool parametrized) : base("encoder")
        {
            pos_conv_embed = new PosConv(parametrized);
            RegisterComponents();
        }
    }

    private readonly Encoder encoder;
    private readonly Parameter masked_spec_embed;

    public FakeWav2Vec2(bool parametrized) : base("FakeWav2Vec2")
    {
        encoder = new Encoder(parametrized);
        masked_spec_embed = nn.Parameter(torch.zeros(32));
        RegisterComponents();
    }
}

/// <summary>A module with an integer buffer (like HF's position_ids) to test dtype-kind checks.</summary>
internal sealed class FakeWithIdsBuffer : nn.Module
{
    private readonly Linear dense;

    public FakeWithIdsBuffer() : base("FakeWithIdsBuffer")
    {
        dense = nn.Linear(2, 2);
        register_buffer("position_ids", torch.arange(4L));
        RegisterComponents();
    }
}

internal static class FakeHf
{
    /// <summary>A private registry (never the default one) with the two fake BERT architectures.</summary>
    public static HfArchitectureRegistry Registry(bool withProjector = false)
    {
        var r = new HfArchitectureRegistry();
        r.Register(new HfArchitecture("BertForSequenceClassification", "bert",
            p => new FakeBertForSequenceClassification(FakeBertConfig.FromJson(p), withProjector)) { ModelType = "bert" });
        r.Register(new HfArchitecture("BertModel", "bert", p => new FakeBertModel(FakeBertConfig.FromJson(p))) { ModelType = "bert" });
        return r;
    }
}
