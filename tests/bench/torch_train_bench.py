#!/usr/bin/env python3
"""PyTorch's BERT-mini training step at the shapes of bertc-bench-cpu's
BM_BertMiniTrainStep: batch 32, seq 128, 2 threads, float32, dropout 0.1;
pretrain_bf16 is the pretraining step under
torch.autocast("cpu", dtype=torch.bfloat16) (oneDNN's bf16 matmuls), with
every LayerNorm's input cast to float32 (PyTorch 1.13's CPU autocast leaves
LayerNorm out of its float32 list), as bertc's --precision bf16 keeps it.

The model is PyTorch's own nn.TransformerEncoderLayer (post-norm, GELU:
BERT's layer) under BERT's embeddings and heads; the step is forward,
backward, clip_grad_norm_(1.0) and torch.optim.AdamW (eps 1e-6, weight decay
0.01 except biases and LayerNorm weights). Like the bertc program, the MLM
head runs only at the masked positions (20 per sequence).

Prints JSON: {"pretrain": {"tokens/s": ..., "peak_rss_growth_bytes": ...},
"classify": {...}}. The memory figure is the growth of the process's peak
resident set from before the model is built to after the timed steps, each
task in a process of its own.
Run through tests/bench/compare.sh, which points torch at OpenBLAS.
"""
import json
import os
import resource
import subprocess
import sys
import time

import torch
from torch import nn

VOCAB, HIDDEN, LAYERS, HEADS, INTER, MAX_POS = 30522, 256, 4, 4, 1024, 512
BATCH, SEQ, PREDICTIONS = 32, 128, 20


class FloatLayerNorm(nn.LayerNorm):
    """LayerNorm on float32 inputs under autocast."""
    def forward(self, x):
        with torch.autocast("cpu", enabled=False):
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


def bench(task, steps):
    before = peak_rss_bytes()
    torch.manual_seed(0)
    bf16 = task.endswith("_bf16")
    task = task.removesuffix("_bf16")
    model = Bert(task)
    if bf16:
        float_layer_norms(model)
    model.train()
    no_decay = lambda n: n.endswith("bias") or "norm" in n
    groups = [
        {"params": [p for n, p in model.named_parameters() if not no_decay(n)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if no_decay(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=1e-4, eps=1e-6)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 29000, (BATCH, SEQ), generator=g)
    types = torch.cat([torch.zeros(BATCH, SEQ // 2), torch.ones(BATCH, SEQ // 2)], 1).long()
    mask = torch.ones(BATCH, SEQ)
    positions = torch.stack([torch.randperm(SEQ - 2, generator=g)[:PREDICTIONS] + 1
                             for _ in range(BATCH)])
    labels = torch.randint(1000, 29000, (BATCH, PREDICTIONS), generator=g)
    nsp = torch.randint(0, 2, (BATCH,), generator=g)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(ids, types, mask, positions, labels, nsp, nsp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    step()
    step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times.sort()
    return {"tokens/s": BATCH * SEQ / times[len(times) // 2],
            "peak_rss_growth_bytes": peak_rss_bytes() - before}


def main():
    tasks = sys.argv[1:] or ["pretrain", "classify", "pretrain_bf16"]
    if len(tasks) > 1:
        # One process per task, so that each peak resident set is its own.
        out = {}
        for task in tasks:
            run = subprocess.run([sys.executable, __file__, task], check=True,
                                 capture_output=True, text=True)
            out.update(json.loads(run.stdout))
        print(json.dumps(out))
        return
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    print(json.dumps({tasks[0]: bench(tasks[0], 5)}))


if __name__ == "__main__":
    main()
