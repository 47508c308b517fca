#!/usr/bin/env python3
"""PyTorch at the shapes of bertc-bench-cpu: the fp32 products of every
linear layer of BERT-mini and BERT-base training in GFLOP/s, in the three
forms of F.linear and its backward with the weight w[out, in] (forward
x w^T, data gradient g w, weight gradient g^T x), and the BERT-mini forward
(MLM logits at every position, as the bertc infer task) in sequences/s, 2
threads; the same products on bf16 operands. Prints JSON: {"linear": {"FORM
T IN OUT": gflops}, "linear_bf16": {...}, "mini": seq_per_s}.

Run through tests/bench/compare.sh, which points torch at OpenBLAS.
"""
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "numerics"))
from bert_reference import bert, mlm_logits  # noqa: E402

# tokens, in, out: linearShapes in tests/bench/CpuBench.cpp.
LINEAR_SHAPES = [(4096, 256, 256), (4096, 256, 1024), (4096, 1024, 256), (640, 256, 30522),
                 (1024, 768, 768), (1024, 768, 3072), (1024, 3072, 768), (160, 768, 30522)]


def median_time(fn, reps):
    fn()
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def mini_weights(hidden=256, layers=4, inter=1024, vocab=30522):
    g = torch.Generator().manual_seed(1)
    w = {}
    def n(name, *shape):
        w[name] = torch.randn(*shape, generator=g) * 0.02
    def z(name, *shape):
        w[name] = torch.zeros(*shape)
    def o(name, *shape):
        w[name] = torch.ones(*shape)
    n("bert.embeddings.word_embeddings.weight", vocab, hidden)
    n("bert.embeddings.position_embeddings.weight", 512, hidden)
    n("bert.embeddings.token_type_embeddings.weight", 2, hidden)
    o("bert.embeddings.LayerNorm.weight", hidden); z("bert.embeddings.LayerNorm.bias", hidden)
    for i in range(layers):
        p = f"bert.encoder.layer.{i}"
        for part in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            n(f"{p}.{part}.weight", hidden, hidden); z(f"{p}.{part}.bias", hidden)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            o(f"{p}.{ln}.weight", hidden); z(f"{p}.{ln}.bias", hidden)
        n(f"{p}.intermediate.dense.weight", inter, hidden); z(f"{p}.intermediate.dense.bias", inter)
        n(f"{p}.output.dense.weight", hidden, inter); z(f"{p}.output.dense.bias", hidden)
    n("bert.pooler.dense.weight", hidden, hidden); z("bert.pooler.dense.bias", hidden)
    n("cls.predictions.transform.dense.weight", hidden, hidden); z("cls.predictions.transform.dense.bias", hidden)
    o("cls.predictions.transform.LayerNorm.weight", hidden); z("cls.predictions.transform.LayerNorm.bias", hidden)
    z("cls.predictions.bias", vocab)
    return w


def main():
    threads = int(os.environ.get("BENCH_THREADS", "2"))
    torch.set_num_threads(threads)
    out = {"linear": {}, "threads": threads, "config": torch.__config__.show().count("openblas")}
    with torch.no_grad():
        for t_, i, o in LINEAR_SHAPES:
            x, g, w = torch.randn(t_, i), torch.randn(t_, o), torch.randn(o, i) * 0.02
            forms = {
                "forward": (lambda y: torch.matmul(x, w.t(), out=y), (t_, o)),
                "data": (lambda y: torch.matmul(g, w, out=y), (t_, i)),
                "weight": (lambda y: torch.matmul(g.t(), x, out=y), (o, i)),
            }
            for form, (product, shape) in forms.items():
                y = torch.empty(*shape)
                t = median_time(lambda: product(y), 10)
                out["linear"][f"{form} {t_} {i} {o}"] = 2 * t_ * i * o / t / 1e9
            # The same products on bf16 operands (oneDNN's bf16 matmul).
            xb, gb, wb = x.bfloat16(), g.bfloat16(), w.bfloat16()
            forms = {
                "forward": (lambda y: torch.matmul(xb, wb.t(), out=y), (t_, o)),
                "data": (lambda y: torch.matmul(gb, wb, out=y), (t_, i)),
                "weight": (lambda y: torch.matmul(gb.t(), xb, out=y), (o, i)),
            }
            for form, (product, shape) in forms.items():
                y = torch.empty(*shape, dtype=torch.bfloat16)
                t = median_time(lambda: product(y), 10)
                out.setdefault("linear_bf16", {})[f"{form} {t_} {i} {o}"] = 2 * t_ * i * o / t / 1e9
        batch, seq = 8, 128
        w = mini_weights()
        ids = (1000 + torch.arange(batch * seq) % 20000).view(batch, seq)
        types = torch.zeros(batch, seq, dtype=torch.long)
        mask = torch.ones(batch, seq)
        def forward():
            x, pooled = bert(w, ids, types, mask, heads=4)
            return mlm_logits(w, x)
        t = median_time(forward, 10)
        out["mini"] = batch / t
    print(json.dumps(out))


if __name__ == "__main__":
    main()
