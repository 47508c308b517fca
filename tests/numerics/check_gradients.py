#!/usr/bin/env python3
"""Compares the gradients a bertc program computes (--step=gradients outputs
grad:NAME) for data/gradients.bertc with PyTorch autograd on the same
weights and inputs, in float64. Prints the max difference per parameter and
exits 1 if a relative difference exceeds 1e-4.

    check_gradients.py PROGRAM WORKDIR
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from bert_reference import read_safetensors  # noqa: E402


def main():
    program, work = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6))
    y = rng.random((4, 5))
    label = [3, -100, 0, 4]  # one ignored row
    pos = [[1, 4, 1], [6, 0, 2], [3, 3, 3], [0, 5, 6]]  # repeated indices add up
    batch = os.path.join(work, "batch.jsonl")
    with open(batch, "w") as f:
        for r in range(4):
            row = {"x": x[r].tolist(), "y": y[r].tolist(), "label": label[r], "pos": pos[r]}
            f.write(json.dumps(row) + "\n")
    weights = os.path.join(work, "w.safetensors")
    out = os.path.join(work, "out.safetensors")
    subprocess.run([program, "init", "--seed", "2", "--output", weights], check=True)
    subprocess.run([program, "infer", "--weights", weights, "--input", batch, "--output", out],
                   check=True)
    w = read_safetensors(weights)
    got = read_safetensors(out)
    params = {n: w[n].clone().requires_grad_() for n in ("w", "b", "v", "gamma", "beta", "e", "table")}
    X, Y = torch.tensor(x), torch.tensor(y)
    t = torch.tanh(X @ params["w"].T + params["b"])
    h = torch.nn.functional.layer_norm(t, (5,), params["gamma"], params["beta"], eps=1e-5)
    # Dropout is the identity outside training (rate applies at training time).
    p = torch.softmax(torch.nn.functional.gelu(h) * 2.0, -1)
    q = params["v"].reshape(3, 10).T
    q3 = q.reshape(2, 5, 3)
    r = (q3 @ q3.transpose(1, 2)).sum() / 100.0
    ce = torch.nn.functional.cross_entropy(h, torch.tensor(label), ignore_index=-100)
    e = params["e"]
    idx = torch.tensor(pos)
    picked = torch.gather(e, 1, idx[:, :, None].expand(-1, -1, 5))
    rows = (picked * picked).sum() + torch.tanh(e[:, 2:6]).sum() + (e[:, 3] * 3.0).sum() \
        + torch.tanh(params["table"][idx]).sum()
    loss = ((p - Y) ** 2).mean() + r * r - 1.0 / (r * r + 2.0) + ce + rows / 10.0
    loss.backward()
    worst = abs(got["loss"].item() - loss.item()) / max(1.0, abs(loss.item()))
    print(f"loss        max rel diff {worst:.3e}")
    for name, t in params.items():
        diff = (got["grad:" + name] - t.grad).abs().max().item()
        rel = diff / max(1e-3, t.grad.abs().max().item())
        print(f"grad:{name:6s} shape {list(t.shape)!s:12s} max abs diff {diff:.3e}  rel {rel:.3e}")
        worst = max(worst, rel)
    print(f"max rel diff {worst:.3e}")
    return 0 if worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
