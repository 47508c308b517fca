#!/usr/bin/env python3
"""PyTorch's BERT training step, by default at the shapes of bertc-bench-cpu's
BM_BertMiniTrainStep: BERT-mini, batch 32, seq 128, 2 threads, float32,
dropout 0.1; pretrain_bf16 is the pretraining step under
torch.autocast(DEVICE, dtype=torch.bfloat16) (oneDNN's bf16 matmuls on the
CPU), with every LayerNorm's input cast to float32 (PyTorch 1.13's CPU
autocast leaves LayerNorm out of its float32 list), as bertc's
--precision bf16 keeps it.

The model is PyTorch's own nn.TransformerEncoderLayer (post-norm, GELU:
BERT's layer) under BERT's embeddings and heads; the step is forward,
backward, clip_grad_norm_(1.0) and torch.optim.AdamW (eps 1e-6, weight decay
0.01 except biases and LayerNorm weights). Like the bertc program, the MLM
head runs only at the masked positions (15% of seq, rounded up: 20 at 128).

    torch_train_bench.py [TASK ...] [--preset tiny|mini] [--batch B] [--seq S]
                         [--device cpu|cuda] [--steps N]

Prints JSON: {"pretrain": {"tokens/s": ..., "peak_rss_growth_bytes": ...},
"classify": {...}}: the median of N timed steps after two untimed ones. The
memory figure is the growth of the process's peak resident set from before
the model is built to after the timed steps, each task in a process of its
own; on CUDA it is the device's peak allocation ("cuda_peak_bytes").
Run through tests/bench/compare.sh (the CPU, OpenBLAS) or
tests/bench/gpu/run.sh (CUDA).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch
from torch import nn

VOCAB, MAX_POS = 30522, 512
# layers, hidden, heads, intermediate (models/bert.bertc's presets).
PRESETS = {"tiny": (2, 128, 2, 512), "mini": (4, 256, 4, 1024)}
LAYERS, HIDDEN, HEADS, INTER = PRESETS["mini"]
BATCH, SEQ = 32, 128
PREDICTIONS = (SEQ * 15 + 99) // 100


class FloatLayerNorm(nn.LayerNorm):
    """LayerNorm on float32 inputs under autocast."""
    def forward(self, x):
        with torch.autocast(x.device.type, enabled=False):
            return super().forward(x.float())


def float_layer_norms(model):
    """Every nn.LayerNorm of `model` as a FloatLayerNorm (same parameters)."""
    for module in model.modules():
        for name, child in module.named_children():
            if type(child) is nn.LayerNorm:
                child.__class__ = FloatLayerNorm
    return model


class Bert(nn.Module):
    def __init__(self, task):
        super().__init__()
        self.task = task
        self.words = nn.Embedding(VOCAB, HIDDEN)
        self.positions = nn.Embedding(MAX_POS, HIDDEN)
        self.types = nn.Embedding(2, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.drop = nn.Dropout(0.1)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(HIDDEN, HEADS, INTER, dropout=0.1, activation="gelu",
                                       layer_norm_eps=1e-12, batch_first=True)
            for _ in range(LAYERS))
        self.pooler = nn.Linear(HIDDEN, HIDDEN)
        if task == "pretrain":
            self.transform = nn.Linear(HIDDEN, HIDDEN)
            self.transform_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
            self.mlm_bias = nn.Parameter(torch.zeros(VOCAB))
            self.nsp = nn.Linear(HIDDEN, 2)
        else:
            self.classifier = nn.Linear(HIDDEN, 2)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids, types, mask, positions=None, labels=None, nsp_label=None, label=None):
        x = self.words(ids) + self.positions.weight[:SEQ] + self.types(types)
        x = self.drop(self.norm(x))
        pad = mask == 0
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=pad)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        ce = nn.functional.cross_entropy
        if self.task == "classify":
            return ce(self.classifier(self.drop(pooled)), label)
        h = torch.gather(x, 1, positions[:, :, None].expand(-1, -1, HIDDEN))
        h = self.transform_norm(nn.functional.gelu(self.transform(h)))
        logits = h @ self.words.weight.T + self.mlm_bias
        mlm = ce(logits.reshape(-1, VOCAB), labels.reshape(-1), ignore_index=-100)
        return mlm + ce(self.nsp(pooled), nsp_label)


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def bench(task, steps, device):
    before = peak_rss_bytes()
    torch.manual_seed(0)
    bf16 = task.endswith("_bf16")
    task = task.removesuffix("_bf16")
    model = Bert(task)
    if bf16:
        float_layer_norms(model)
    model.to(device).train()
    no_decay = lambda n: n.endswith("bias") or "norm" in n
    groups = [
        {"params": [p for n, p in model.named_parameters() if not no_decay(n)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if no_decay(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=1e-4, eps=1e-6)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 29000, (BATCH, SEQ), generator=g)
    types = torch.cat([torch.zeros(BATCH, SEQ // 2), torch.ones(BATCH, SEQ - SEQ // 2)], 1).long()
    mask = torch.ones(BATCH, SEQ)
    positions = torch.stack([torch.randperm(SEQ - 2, generator=g)[:PREDICTIONS] + 1
                             for _ in range(BATCH)])
    labels = torch.randint(1000, 29000, (BATCH, PREDICTIONS), generator=g)
    nsp = torch.randint(0, 2, (BATCH,), generator=g)
    ids, types, mask, positions, labels, nsp = (
        t.to(device) for t in (ids, types, mask, positions, labels, nsp))
    cuda = device.startswith("cuda")

    def step():
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
            loss = model(ids, types, mask, positions, labels, nsp, nsp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if cuda:
            torch.cuda.synchronize()

    step()
    step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times.sort()
    out = {"tokens/s": BATCH * SEQ / times[len(times) // 2]}
    if cuda:
        out["cuda_peak_bytes"] = torch.cuda.max_memory_allocated()
    else:
        out["peak_rss_growth_bytes"] = peak_rss_bytes() - before
    return out


def main():
    global LAYERS, HIDDEN, HEADS, INTER, BATCH, SEQ, PREDICTIONS
    p = argparse.ArgumentParser()
    p.add_argument("tasks", nargs="*", default=["pretrain", "classify", "pretrain_bf16"])
    p.add_argument("--preset", choices=sorted(PRESETS), default="mini")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=5)
    args = p.parse_args()
    if len(args.tasks) > 1:
        # One process per task, so that each peak resident set is its own.
        out = {}
        options = ["--preset", args.preset, "--batch", str(args.batch), "--seq", str(args.seq),
                   "--device", args.device, "--steps", str(args.steps)]
        for task in args.tasks:
            run = subprocess.run([sys.executable, __file__, task] + options, check=True,
                                 capture_output=True, text=True)
            out.update(json.loads(run.stdout))
        print(json.dumps(out))
        return
    LAYERS, HIDDEN, HEADS, INTER = PRESETS[args.preset]
    BATCH, SEQ = args.batch, args.seq
    PREDICTIONS = (SEQ * 15 + 99) // 100
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    print(json.dumps({args.tasks[0]: bench(args.tasks[0], args.steps, args.device)}))


if __name__ == "__main__":
    main()
