#!/usr/bin/python3
"""PyTorch peer of `distill bench`: the same distillation workload as Distill's, for a side-by-side comparison.

Run by `distill bench` (never by the unit tests or CI), one process per measurement:

    /usr/bin/python3 bench/torch_peer.py <job.json> --result <result.json>

The job (written by `distill bench`) fixes everything that decides the work done: model configs, initial weights
(teacher, student and projectors, exported from Distill as safetensors), the example order of every epoch, the
optimizer, LR schedule, gradient clipping, loss terms and thread count. The models below are plain PyTorch modules
written to match Distill's (src/Distill.Core/Models/{Cnn,Bert,Vit}, .../Losses): same layers, same parameter names,
same formulas, so that loading Distill's initial weights gives the same network and the final losses agree up to
floating-point drift. No transformers library: the BERT and ViT modules are written out here.

Data: MNIST IDX files and CIFAR-10 binary records are read from the original files and normalised as Distill does;
text (workload bert-sst2) is tokenized once by Distill and read from `bench_tokens` safetensors files (input_ids,
token_type_ids, attention_mask padded to a fixed length, labels), so both sides see the same token ids.

Measured: time of every optimizer step (batch building, teacher forward, student forward, losses, backward, clipping,
AdamW), per-epoch time, peak RSS (VmHWM) and RSS samples, the loss of every step and the final accuracy.
Needs Debian's python3-torch with libopenblas0-openmp (bench/setup.sh).
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------------------------------------------
# Process measurements

def proc_status_mb(field):
    """VmRSS / VmHWM of this process in MB (from /proc/self/status, kB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


# ----------------------------------------------------------------------------------------------------------------
# Files written by Distill

def read_safetensors(path):
    """Minimal safetensors reader (8-byte little-endian header length, JSON header, raw little-endian data)."""
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64,
              "I32": torch.int32, "I8": torch.int8, "U8": torch.uint8, "F64": torch.float64, "BOOL": torch.bool}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = dtypes[info["dtype"]]
        if end == begin:
            out[name] = torch.empty(info["shape"], dtype=dtype)
        else:
            out[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(info["shape"]).clone()
    return out


def read_int32(path):
    with open(path, "rb") as f:
        raw = f.read()
    return torch.frombuffer(bytearray(raw), dtype=torch.int32).to(torch.int64)


def load_prefixed(module, tensors, prefix):
    """Strict load of `prefix.*` tensors into module (every key present, no extra key, same shapes)."""
    own = module.state_dict()
    source = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    missing = sorted(set(own) - set(source))
    unexpected = sorted(set(source) - set(own))
    if missing or unexpected:
        sys.exit(f"torch_peer: weights for '{prefix}' do not match the model: missing {missing}, unexpected {unexpected}")
    for k, v in source.items():
        if tuple(own[k].shape) != tuple(v.shape):
            sys.exit(f"torch_peer: '{prefix}{k}' has shape {tuple(v.shape)} in the file, {tuple(own[k].shape)} in the model")
    module.load_state_dict(source, strict=True)


# ----------------------------------------------------------------------------------------------------------------
# Data

def read_idx(path, magic):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    (m,) = struct.unpack(">i", raw[:4])
    if m != magic:
        sys.exit(f"torch_peer: {path} is not an IDX file with magic {magic}")
    rank = magic & 0xFF
    dims = struct.unpack(">" + "i" * rank, raw[4:4 + 4 * rank])
    return torch.frombuffer(bytearray(raw[4 + 4 * rank:]), dtype=torch.uint8).reshape(dims)


def find(folder, names):
    found = [os.path.join(folder, n) for n in names if os.path.exists(os.path.join(folder, n))]
    if not found:
        sys.exit(f"torch_peer: {folder} has none of {names}")
    if len(found) > 1:
        sys.exit(f"torch_peer: {folder} holds several of {names}; keep one")
    return found[0]


class Mnist:
    """MNIST IDX files, pre-processed as Distill's MnistDataset: x = pixel * (1/255/std) - mean/std in float32."""

    def __init__(self, folder, split, mean, std):
        prefix = "train" if split == "train" else "t10k"
        self.images = read_idx(find(folder, [f"{prefix}-images-idx3-ubyte", f"{prefix}-images-idx3-ubyte.gz"]), 2051)
        self.labels = read_idx(find(folder, [f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels-idx1-ubyte.gz"]), 2049).to(torch.int64)
        self.scale = torch.tensor(1.0 / 255.0 / std[0], dtype=torch.float32)
        self.shift = torch.tensor(mean[0] / std[0], dtype=torch.float32)

    def batch(self, indices):
        x = self.images[indices].to(torch.float32).unsqueeze(1)  # (B, 1, 28, 28)
        return {"pixel_values": x * self.scale - self.shift}, self.labels[indices]


class Cifar10:
    """CIFAR-10 binary records (1 label byte, then the R, G, B planes of 32x32 bytes), pre-processed as Distill's
    Cifar10Dataset: a per-channel table of the 256 byte values, x = float32(v * (1/255) in float64), then
    (x - mean) / std in float32."""

    def __init__(self, folder, split, mean, std):
        names = {"train": ["train_subset_10k.bin", "train.bin"], "test": ["test_5k.bin", "test.bin"]}[split]
        with open(find(folder, names), "rb") as f:
            raw = f.read()
        if len(raw) == 0 or len(raw) % 3073 != 0:
            sys.exit(f"torch_peer: {folder}: {len(raw)} bytes is not a whole number of 3073-byte CIFAR-10 records")
        records = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(-1, 3073)
        self.labels = records[:, 0].to(torch.int64)
        self.pixels = records[:, 1:].reshape(-1, 3, 32, 32).clone()  # (N, 3, 32, 32) uint8
        x = (torch.arange(256, dtype=torch.float64) * (1.0 / 255.0)).to(torch.float32)  # (256)
        m = torch.tensor(mean, dtype=torch.float32).reshape(3, 1)
        s = torch.tensor(std, dtype=torch.float32).reshape(3, 1)
        self.table = (x.reshape(1, 256) - m) / s  # (3, 256)
        self.channel = torch.arange(3).reshape(1, 3, 1, 1)

    def batch(self, indices):
        px = self.pixels[indices].to(torch.int64)  # (B, 3, 32, 32)
        return {"pixel_values": self.table[self.channel, px]}, self.labels[indices]


class Tokens:
    """Text tokenized by Distill (bench_tokens): <folder>/<split>.safetensors with input_ids, token_type_ids,
    attention_mask (N, L) and labels (N), all int64."""

    names = ("input_ids", "token_type_ids", "attention_mask")

    def __init__(self, folder, split):
        path = os.path.join(folder, split + ".safetensors")
        if not os.path.exists(path):
            sys.exit(f"torch_peer: {path} not found")
        tensors = read_safetensors(path)
        for name in self.names + ("labels",):
            if name not in tensors or tensors[name].dtype != torch.int64:
                sys.exit(f"torch_peer: {path} has no int64 '{name}' tensor")
        self.inputs = {name: tensors[name] for name in self.names}
        self.labels = tensors["labels"]

    def batch(self, indices):
        return {name: t[indices] for name, t in self.inputs.items()}, self.labels[indices]


def open_data(data, split):
    kind = data["dataset"]
    if kind == "mnist":
        return Mnist(data["path"], split, data["mean"], data["std"])
    if kind == "cifar10":
        return Cifar10(data["path"], split, data["mean"], data["std"])
    if kind == "bench_tokens":
        return Tokens(data["path"], split)
    sys.exit(f"torch_peer: dataset '{kind}' is not implemented in the peer")


# ----------------------------------------------------------------------------------------------------------------
# Models: the same modules and parameter names as Distill's. Every model returns
# (logits, {tapped module path: output}, [hidden states, 0 = embedding output], [attention probabilities per layer]).

class ConvBlock(nn.Module):
    """conv3x3 (no bias, padding 1) -> BatchNorm2d -> ReLU -> 2x2 max-pool (Models/Cnn/ConvBlock.cs)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.max_pool2d(F.relu(self.norm(self.conv(x))), 2)


class Cnn(nn.Module):
    """Conv blocks -> flatten -> fc + ReLU -> dropout -> classifier (Models/Cnn/CnnModel.cs)."""

    def __init__(self, cfg):
        super().__init__()
        channels = cfg["channels"]
        cin = cfg.get("in_channels", 1)
        self.blocks = nn.ModuleList()
        for ch in channels:
            self.blocks.append(ConvBlock(cin, ch))
            cin = ch
        side = cfg.get("image_size", 28) >> len(channels)
        self.fc = nn.Linear(cin * side * side, cfg["hidden_size"])
        self.classifier = nn.Linear(cfg["hidden_size"], cfg.get("num_labels", 10))
        self.dropout = nn.Dropout(cfg.get("dropout", 0.0))

    def forward(self, inputs, taps):
        x = inputs["pixel_values"]
        features = {}
        for i, block in enumerate(self.blocks):
            x = block(x)
            name = f"blocks.{i}"
            if name in taps:
                features[name] = x
        h = self.dropout(F.relu(self.fc(x.flatten(1))))
        return self.classifier(h), features, [], []


def activation(name):
    """HF's ACT2FN entries that Distill's BERT and ViT support."""
    if name == "gelu":
        return F.gelu
    if name == "gelu_new":
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "gelu_pytorch_tanh":
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "relu":
        return F.relu
    if name in ("silu", "swish"):
        return F.silu
    sys.exit(f"torch_peer: hidden_act '{name}' is not implemented in the peer")


class SelfAttention(nn.Module):
    """Multi-head scaled dot-product attention: softmax(Q K^T / sqrt(d_head) + mask) V, probabilities after dropout.
    Children query / key / value (BERT's BertSelfAttention, ViT's ViTSelfAttention)."""

    def __init__(self, hidden, heads, dropout, bias=True):
        super().__init__()
        if hidden % heads != 0:
            sys.exit(f"torch_peer: hidden_size {hidden} is not a multiple of num_attention_heads {heads}")
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden, bias=bias)
        self.key = nn.Linear(hidden, hidden, bias=bias)
        self.value = nn.Linear(hidden, hidden, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).permute(0, 2, 1, 3)  # (B, heads, T, head_dim)

    def forward(self, h, additive_mask=None):
        b, t, _ = h.shape
        q, k, v = self.split(self.query(h)), self.split(self.key(h)), self.split(self.value(h))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)  # (B, heads, T, T)
        if additive_mask is not None:
            scores = scores + additive_mask  # (B, 1, 1, T): 0 kept, finfo.min padded
        probs = self.dropout(F.softmax(scores, -1))
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous().view(b, t, self.heads * self.head_dim)  # (B, T, D)
        return context, probs


class DenseNorm(nn.Module):
    """Post-norm residual: LayerNorm(dropout(dense(x)) + residual) (BERT's BertSelfOutput and BertOutput)."""

    def __init__(self, cin, cout, eps, dropout):
        super().__init__()
        self.dense = nn.Linear(cin, cout)
        self.LayerNorm = nn.LayerNorm(cout, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertAttentionBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        self.self = SelfAttention(d, cfg["num_attention_heads"], cfg["attention_probs_dropout_prob"])
        self.output = DenseNorm(d, d, cfg["layer_norm_eps"], cfg["hidden_dropout_prob"])

    def forward(self, h, mask):
        context, probs = self.self(h, mask)
        return self.output(context, h), probs


class Intermediate(nn.Module):
    """Feed-forward expansion (dense + activation); BERT and ViT share it (parameter name `dense`)."""

    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"])
        self.act = activation(cfg["hidden_act"])

    def forward(self, h):
        return self.act(self.dense(h))


class BertLayer(nn.Module):
    """Post-norm encoder layer: attention block, then feed-forward block (attention, intermediate, output)."""

    def __init__(self, cfg):
        super().__init__()
        self.attention = BertAttentionBlock(cfg)
        self.intermediate = Intermediate(cfg)
        self.output = DenseNorm(cfg["intermediate_size"], cfg["hidden_size"], cfg["layer_norm_eps"], cfg["hidden_dropout_prob"])

    def forward(self, h, mask):
        attended, probs = self.attention(h, mask)
        return self.output(self.intermediate(attended), attended), probs


class BertEmbeddings(nn.Module):
    """(word + token type) + position embeddings, LayerNorm, dropout."""

    def __init__(self, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], d, padding_idx=cfg.get("pad_token_id"))
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], d)
        self.token_type_embeddings = nn.Embedding(cfg["type_vocab_size"], d)
        self.LayerNorm = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])
        self.dropout = nn.Dropout(cfg["hidden_dropout_prob"])

    def forward(self, ids, types):
        positions = torch.arange(ids.shape[1], dtype=torch.int64).unsqueeze(0)  # (1, T)
        e = self.word_embeddings(ids) + self.token_type_embeddings(types)
        e = e + self.position_embeddings(positions)
        return self.dropout(self.LayerNorm(e))


class BertEncoderStack(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(cfg) for _ in range(cfg["num_hidden_layers"])])


class BertPooler(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class BertBody(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoderStack(cfg)
        self.pooler = BertPooler(cfg)


class Bert(nn.Module):
    """BERT sequence classifier (Models/Bert/BertForSequenceClassification.cs): bert.{embeddings, encoder, pooler},
    dropout, classifier on the pooled [CLS] vector. The attention mask becomes an additive (1 - m) * finfo.min."""

    def __init__(self, cfg):
        super().__init__()
        cfg = dict(cfg)
        if cfg.get("position_embedding_type", "absolute") != "absolute":
            sys.exit("torch_peer: bert: only absolute position embeddings are implemented in the peer")
        num_labels = cfg.get("num_labels") or len(cfg.get("id2label") or {}) or 2
        drop = cfg.get("classifier_dropout")
        self.bert = BertBody(cfg)
        self.dropout = nn.Dropout(cfg["hidden_dropout_prob"] if drop is None else drop)
        self.classifier = nn.Linear(cfg["hidden_size"], num_labels)

    def forward(self, inputs, taps):
        ids = inputs["input_ids"]
        types = inputs.get("token_type_ids")
        if types is None:
            types = torch.zeros_like(ids)
        mask = inputs.get("attention_mask")
        if mask is None:
            mask = torch.ones_like(ids)
        h = self.bert.embeddings(ids, types)  # (B, T, D)
        m = mask.unsqueeze(1).unsqueeze(2).to(h.dtype)  # (B, 1, 1, T)
        additive = (1.0 - m) * torch.finfo(h.dtype).min
        hidden, attentions = [h], []
        for layer in self.bert.encoder.layer:
            h, probs = layer(h, additive)
            hidden.append(h)
            attentions.append(probs)
        pooled = self.bert.pooler(h)
        return self.classifier(self.dropout(pooled)), {}, hidden, attentions


class ViTPatchEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        p = cfg["patch_size"]
        self.projection = nn.Conv2d(cfg["num_channels"], cfg["hidden_size"], p, stride=p)

    def forward(self, x):
        return self.projection(x).flatten(2).transpose(1, 2)  # (B, D, H/P, W/P) -> (B, N, D)


class ViTEmbeddings(nn.Module):
    """[CLS; patch embeddings] + position embeddings, dropout."""

    def __init__(self, cfg):
        super().__init__()
        n = (cfg["image_size"] // cfg["patch_size"]) ** 2
        d = cfg["hidden_size"]
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.position_embeddings = nn.Parameter(torch.zeros(1, n + 1, d))
        self.patch_embeddings = ViTPatchEmbeddings(cfg)
        self.dropout = nn.Dropout(cfg["hidden_dropout_prob"])

    def forward(self, x):
        patches = self.patch_embeddings(x)  # (B, N, D)
        cls = self.cls_token.expand(patches.shape[0], -1, -1)  # (B, 1, D)
        return self.dropout(torch.cat([cls, patches], dim=1) + self.position_embeddings)


class ViTSelfOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])
        self.dropout = nn.Dropout(cfg["hidden_dropout_prob"])

    def forward(self, x):
        return self.dropout(self.dense(x))


class ViTAttentionBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = SelfAttention(cfg["hidden_size"], cfg["num_attention_heads"], cfg["attention_probs_dropout_prob"],
                                       bias=cfg.get("qkv_bias", True))
        self.output = ViTSelfOutput(cfg)

    def forward(self, h):
        context, probs = self.attention(h)
        return self.output(context), probs


class ViTOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["intermediate_size"], cfg["hidden_size"])
        self.dropout = nn.Dropout(cfg["hidden_dropout_prob"])

    def forward(self, h, residual):
        return self.dropout(self.dense(h)) + residual


class ViTLayer(nn.Module):
    """Pre-norm block: x + Attn(LN_before(x)), then + FFN(LN_after(.))."""

    def __init__(self, cfg):
        super().__init__()
        eps = cfg["layer_norm_eps"]
        self.attention = ViTAttentionBlock(cfg)
        self.intermediate = Intermediate(cfg)
        self.output = ViTOutput(cfg)
        self.layernorm_before = nn.LayerNorm(cfg["hidden_size"], eps=eps)
        self.layernorm_after = nn.LayerNorm(cfg["hidden_size"], eps=eps)

    def forward(self, h):
        attended, probs = self.attention(self.layernorm_before(h))
        x = attended + h
        return self.output(self.intermediate(self.layernorm_after(x)), x), probs


class ViTEncoderStack(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([ViTLayer(cfg) for _ in range(cfg["num_hidden_layers"])])


class ViTBody(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = ViTEmbeddings(cfg)
        self.encoder = ViTEncoderStack(cfg)
        self.layernorm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])


class ViT(nn.Module):
    """ViT image classifier (Models/Vit/ViTForImageClassification.cs): vit.{embeddings, encoder, layernorm}, then a
    classifier on the final-layernormed CLS token. Hidden states are the encoder's (before the final LayerNorm)."""

    def __init__(self, cfg):
        super().__init__()
        self.vit = ViTBody(cfg)
        self.classifier = nn.Linear(cfg["hidden_size"], cfg["num_labels"])

    def forward(self, inputs, taps):
        h = self.vit.embeddings(inputs["pixel_values"])  # (B, N+1, D)
        hidden, attentions = [h], []
        for layer in self.vit.encoder.layer:
            h, probs = layer(h)
            hidden.append(h)
            attentions.append(probs)
        sequence = self.vit.layernorm(h)
        return self.classifier(sequence[:, 0]), {}, hidden, attentions


class Projector(nn.Module):
    """FeatureProjector: 1x1 conv for (B, C, H, W) features, Linear on the last dimension otherwise; state-dict name proj.*"""

    def __init__(self, conv, cin, cout):
        super().__init__()
        self.proj = nn.Conv2d(cin, cout, 1) if conv else nn.Linear(cin, cout)

    def forward(self, x):
        return self.proj(x)


def build_model(spec):
    family, cfg = spec["family"], spec["config"]
    if family == "cnn":
        return Cnn(cfg)
    if family == "bert":
        return Bert(cfg)
    if family == "vit":
        return ViT(cfg)
    sys.exit(f"torch_peer: model family '{family}' is not implemented in the peer")


# ----------------------------------------------------------------------------------------------------------------
# Losses (Losses/SoftTargetLoss.cs, HintLoss.cs, HiddenStateMseLoss.cs, AttentionMapLoss.cs)

def soft_target(s, t, labels, temperature, alpha):
    """alpha * T^2 * KL(teacher || student) (sum over classes, mean over rows) + (1 - alpha) * CE."""
    rows = s.shape[0]
    log_ps = F.log_softmax(s / temperature, 1)
    log_pt = F.log_softmax(t.detach() / temperature, 1)
    kd = F.kl_div(log_ps, log_pt, reduction="sum", log_target=True) / rows * (temperature * temperature)
    if alpha < 1:
        return alpha * kd + (1 - alpha) * F.cross_entropy(s, labels)
    return alpha * kd


def hidden_mse(s_hidden, t_hidden, pairs, projector):
    """Mean over the layer pairs of MSE(W h_s[m], h_t[n]) (mean over every element); W = identity when None."""
    total = None
    for s, t in pairs:
        mapped = s_hidden[s] if projector is None else projector(s_hidden[s])
        value = F.mse_loss(mapped, t_hidden[t].detach())
        total = value if total is None else total + value
    return total / len(pairs)


def attention_map(s_att, t_att, pairs, kind, mask):
    """Mean over the layer pairs of the attention-map loss over the query rows of real tokens (mask (B, T), 1 = real):
    kl  = sum_(b,i real) sum_h sum_j t (log t - log max(s, 1e-12)) / (|rows| * heads)
    mse = sum_(b,i real) sum_h sum_j (s - t)^2 / (|rows| * heads * T)."""
    total = None
    for s_layer, t_layer in pairs:
        s = s_att[s_layer - 1]
        t = t_att[t_layer - 1].detach()
        b, heads, tokens, _ = s.shape
        if kind == "mse":
            per_row, per_row_count = (s - t).pow(2).sum(-1), tokens
        else:
            per_row, per_row_count = (torch.xlogy(t, t) - t * s.clamp_min(1e-12).log()).sum(-1), 1
        if mask is None:
            value = per_row.sum() / (b * heads * tokens * per_row_count)
        else:
            rows = mask.to(s.dtype).unsqueeze(1)  # (B, 1, T)
            value = (per_row * rows).sum() / (rows.sum().clamp_min(1) * (heads * per_row_count))
        total = value if total is None else total + value
    return total / len(pairs)


def lr_at(step, base, kind, warmup, total):
    """Training/LrSchedule.cs"""
    if warmup > 0 and step < warmup:
        return base * (step + 1) / warmup
    decay = max(1, total - warmup)
    p = min(max((step - warmup) / decay, 0.0), 1.0)
    if kind == "constant":
        return base
    if kind == "linear":
        return base * (1 - p)
    return base * 0.5 * (1 + math.cos(math.pi * p))


# ----------------------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("job")
    ap.add_argument("--result", required=True)
    args = ap.parse_args()
    started = time.perf_counter()
    with open(args.job) as f:
        job = json.load(f)

    torch.set_num_threads(job["threads"])
    torch.manual_seed(job["seed"])
    data = job["data"]
    train = open_data(data, "train")
    test = open_data(data, data.get("eval_split", "test"))
    orders = read_int32(job["orders"]).reshape(-1, job["steps_per_epoch"] * job["batch_size"])
    eval_indices = read_int32(job["eval_indices"])

    phases = {"data": proc_status_mb("VmRSS"), "data_peak": proc_status_mb("VmHWM")}
    teacher = build_model(job["teacher"])
    student = build_model(job["student"])
    weights = read_safetensors(job["weights"])
    load_prefixed(teacher, weights, "teacher.")
    load_prefixed(student, weights, "student.")
    terms = job["terms"]
    hint = terms.get("hint")
    hidden = terms.get("hidden")
    attention = terms.get("attention")
    projectors = []
    hint_projector = hidden_projector = None
    if hint:
        hint_projector = Projector(hint["conv"], hint["in_features"], hint["out_features"])
        load_prefixed(hint_projector, weights, "projector." + hint["name"] + ".")
        projectors.append(hint_projector)
    if hidden and hidden["in_features"] > 0:
        hidden_projector = Projector(False, hidden["in_features"], hidden["out_features"])
        load_prefixed(hidden_projector, weights, "projector." + hidden["name"] + ".")
        projectors.append(hidden_projector)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)

    phases["models"] = proc_status_mb("VmRSS")
    phases["cache"] = phases["models"]
    phases["cache_peak"] = proc_status_mb("VmHWM")
    train_cfg = job["train"]
    params = list(student.parameters()) + [p for proj in projectors for p in proj.parameters()]
    optimizer = torch.optim.AdamW(params, lr=train_cfg["lr"], weight_decay=train_cfg["weight_decay"])
    total = job["total_steps"]
    spe = job["steps_per_epoch"]
    bsz = job["batch_size"]
    t_taps = {hint["teacher"]} if hint else set()
    s_taps = {hint["student"]} if hint else set()
    st = terms["soft_target"]
    clip = train_cfg.get("grad_clip")  # absent: no clipping

    student.train()
    for proj in projectors:
        proj.train()
    step_seconds, losses, rss = [], [], []
    fit_start = time.perf_counter()
    prev = fit_start
    for step in range(total):
        epoch, offset = divmod(step, spe)
        lr = lr_at(step, train_cfg["lr"], train_cfg["schedule"], train_cfg["warmup_steps"], total)
        for g in optimizer.param_groups:
            g["lr"] = lr
        inputs, labels = train.batch(orders[epoch, offset * bsz:(offset + 1) * bsz])
        with torch.no_grad():
            t_logits, t_feats, t_hidden, t_att = teacher(inputs, t_taps)
        s_logits, s_feats, s_hidden, s_att = student(inputs, s_taps)
        loss = st["weight"] * soft_target(s_logits, t_logits, labels, st["temperature"], st["alpha"])
        if hint:
            loss = loss + hint["weight"] * F.mse_loss(hint_projector(s_feats[hint["student"]]), t_feats[hint["teacher"]].detach())
        if hidden:
            loss = loss + hidden["weight"] * hidden_mse(s_hidden, t_hidden, hidden["pairs"], hidden_projector)
        if attention:
            loss = loss + attention["weight"] * attention_map(s_att, t_att, attention["pairs"], attention["loss"], inputs.get("attention_mask"))
        total_loss = loss.item()
        if not math.isfinite(total_loss):
            sys.exit(f"torch_peer: loss is {total_loss} at step {step + 1}")
        optimizer.zero_grad()
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        now = time.perf_counter()
        step_seconds.append(now - prev)
        losses.append(total_loss)
        if (step + 1) % job["rss_every"] == 0:
            rss.append([step + 1, proc_status_mb("VmRSS")])
        prev = time.perf_counter()  # the RSS read is not part of the next step (as on Distill's side)
    fit_seconds = time.perf_counter() - fit_start
    phases["trained"] = proc_status_mb("VmRSS")
    phases["trained_peak"] = proc_status_mb("VmHWM")

    student.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(eval_indices), 1000):
            inputs, labels = test.batch(eval_indices[start:start + 1000])
            logits = student(inputs, set())[0]
            correct += (logits.argmax(1) == labels).sum().item()

    phases["evaluated"] = proc_status_mb("VmRSS")
    result = {
        "side": "pytorch",
        "variant": job["variant"],
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "step_seconds": step_seconds,
        "epoch_seconds": [sum(step_seconds[e * spe:(e + 1) * spe]) for e in range(len(step_seconds) // spe)],
        "job_seconds": fit_seconds,
        "cache_seconds": 0.0,
        "losses": losses,
        "accuracy": correct / len(eval_indices),
        "peak_rss_mb": phases["trained_peak"],  # up to the end of training, as on Distill's side (evaluation excluded)
        "rss_mb": rss,
        "phase_rss_mb": phases,
        "process_seconds": time.perf_counter() - started,
        "load_average": load_average(),
    }
    with open(args.result, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
