#!/usr/bin/python3
"""PyTorch peer of `distill bench`: the same distillation workload as Distill's, for a side-by-side comparison.

Run by `distill bench` (never by the unit tests or CI), one process per measurement:

    /usr/bin/python3 bench/torch_peer.py <job.json> --result <result.json>

The job (written by `distill bench`) fixes everything that decides the work done: model configs, initial weights
(teacher, student and hint projector, exported from Distill as safetensors), the example order of every epoch, the
optimizer, LR schedule, gradient clipping, loss terms and thread count. The models below are written to match
Distill's (src/Distill.Core/Models/Cnn, .../Losses): same layers, same parameter names, same formulas, so that loading
Distill's initial weights gives the same network and the final losses agree up to floating-point drift.

Measured: time of every optimizer step (batch building, teacher forward, student forward, losses, backward, clipping,
AdamW), per-epoch time, peak RSS (VmHWM) and RSS samples, the loss of every step and the final test accuracy.
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
# Data: MNIST IDX files, pre-processed as Distill's MnistDataset: x = pixel * (1/255/std) - mean/std in float32.

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


def find(folder, name):
    for candidate in (name, name + ".gz"):
        p = os.path.join(folder, candidate)
        if os.path.exists(p):
            return p
    sys.exit(f"torch_peer: {folder} has no {name}(.gz)")


class Mnist:
    def __init__(self, folder, split, mean, std):
        prefix = "train" if split == "train" else "t10k"
        self.images = read_idx(find(folder, f"{prefix}-images-idx3-ubyte"), 2051)
        self.labels = read_idx(find(folder, f"{prefix}-labels-idx1-ubyte"), 2049).to(torch.int64)
        self.scale = torch.tensor(1.0 / 255.0 / std[0], dtype=torch.float32)
        self.shift = torch.tensor(mean[0] / std[0], dtype=torch.float32)

    def batch(self, indices):
        x = self.images[indices].to(torch.float32).unsqueeze(1)  # (B, 1, 28, 28)
        return {"pixel_values": x * self.scale - self.shift}, self.labels[indices]


# ----------------------------------------------------------------------------------------------------------------
# Models: the same modules and parameter names as Distill's.

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
        return self.classifier(h), features


class Projector(nn.Module):
    """FeatureProjector: 1x1 conv for (B, C, H, W) features, Linear otherwise; state-dict name proj.*"""

    def __init__(self, conv, cin, cout):
        super().__init__()
        self.proj = nn.Conv2d(cin, cout, 1) if conv else nn.Linear(cin, cout)

    def forward(self, x):
        return self.proj(x)


def build_model(spec):
    if spec["family"] == "cnn":
        return Cnn(spec["config"])
    sys.exit(f"torch_peer: model family '{spec['family']}' is not implemented in the peer")


# ----------------------------------------------------------------------------------------------------------------
# Losses (Losses/SoftTargetLoss.cs, Losses/HintLoss.cs)

def soft_target(s, t, labels, temperature, alpha):
    rows = s.shape[0]
    log_ps = F.log_softmax(s / temperature, 1)
    log_pt = F.log_softmax(t.detach() / temperature, 1)
    kd = F.kl_div(log_ps, log_pt, reduction="sum", log_target=True) / rows * (temperature * temperature)
    if alpha < 1:
        return alpha * kd + (1 - alpha) * F.cross_entropy(s, labels)
    return alpha * kd


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
    if data["dataset"] != "mnist":
        sys.exit(f"torch_peer: dataset '{data['dataset']}' is not implemented in the peer")
    train = Mnist(data["path"], "train", data["mean"], data["std"])
    test = Mnist(data["path"], "test", data["mean"], data["std"])
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
    projector = None
    if hint:
        projector = Projector(hint["conv"], hint["in_features"], hint["out_features"])
        load_prefixed(projector, weights, "projector." + hint["name"] + ".")
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)

    phases["models"] = proc_status_mb("VmRSS")
    phases["cache"] = phases["models"]
    train_cfg = job["train"]
    params = list(student.parameters()) + (list(projector.parameters()) if projector else [])
    optimizer = torch.optim.AdamW(params, lr=train_cfg["lr"], weight_decay=train_cfg["weight_decay"])
    total = job["total_steps"]
    spe = job["steps_per_epoch"]
    bsz = job["batch_size"]
    t_taps = {hint["teacher"]} if hint else set()
    s_taps = {hint["student"]} if hint else set()
    st = terms["soft_target"]

    student.train()
    if projector:
        projector.train()
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
            t_logits, t_feats = teacher(inputs, t_taps)
        s_logits, s_feats = student(inputs, s_taps)
        loss = st["weight"] * soft_target(s_logits, t_logits, labels, st["temperature"], st["alpha"])
        if hint:
            loss = loss + hint["weight"] * F.mse_loss(projector(s_feats[hint["student"]]), t_feats[hint["teacher"]].detach())
        total_loss = loss.item()
        if not math.isfinite(total_loss):
            sys.exit(f"torch_peer: loss is {total_loss} at step {step + 1}")
        optimizer.zero_grad()
        loss.backward()
        if train_cfg.get("grad_clip"):
            nn.utils.clip_grad_norm_(params, train_cfg["grad_clip"])
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
            logits, _ = student(inputs, set())
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
        "peak_rss_mb": proc_status_mb("VmHWM"),
        "rss_mb": rss,
        "phase_rss_mb": phases,
        "process_seconds": time.perf_counter() - started,
        "load_average": load_average(),
    }
    with open(args.result, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
