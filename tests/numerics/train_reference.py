#!/usr/bin/env python3
"""Training steps of the independent PyTorch BERT (float64) against a bertc
training program's `train-step` run on the same weights and data.

    train_reference.py --task pretrain --weights w.safetensors --data d.jsonl \
        --grads g.safetensors --losses steps.jsonl --heads 2 --batch 4 --seq 32 \
        --lr 1e-3 [--bias-correction 1] [--tolerance 1e-4]

`--grads` holds the program's first-step gradients (`--dump-grads`),
`--losses` its JSON lines (one per step). The reference reads per-token MLM
labels as HuggingFace's BertForPreTraining does (logits at every position),
clips the gradients' global norm to 1.0 with torch.nn.utils.clip_grad_norm_
and steps torch.optim.AdamW (betas 0.9/0.999, eps 1e-6, weight decay 0.01
except on biases and LayerNorm weights); without bias correction it applies
the original BERT optimizer's update. Prints the max relative difference of
every parameter gradient (relative to the tensor's largest entry, or to
1e-5 of the model's largest gradient for tensors whose gradient is zero in
exact arithmetic) and the
loss difference at every step; exits 1 if one exceeds the tolerance.
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import bert, linear, mlm_logits, read_safetensors  # noqa: E402


def batches(path, batch, seq):
    """The runtime's batching: rows i*B ... i*B+B-1, padding after the end."""
    rows = [json.loads(line) for line in open(path) if line.strip()]
    out = []
    for first in range(0, len(rows), batch):
        ids = torch.zeros(batch, seq, dtype=torch.long)
        types = torch.zeros(batch, seq, dtype=torch.long)
        mask = torch.zeros(batch, seq, dtype=torch.float64)
        labels = torch.full((batch, seq), -100, dtype=torch.long)
        nsp = torch.full((batch,), -100, dtype=torch.long)
        label = torch.full((batch,), -100, dtype=torch.long)
        for r, row in enumerate(rows[first:first + batch]):
            n = len(row["input_ids"])
            ids[r, :n] = torch.tensor(row["input_ids"])
            types[r, :n] = torch.tensor(row.get("token_type_ids", [0] * n))
            mask[r, :n] = 1
            if "labels" in row:
                labels[r, :n] = torch.tensor(row["labels"])
            nsp[r] = row.get("next_sentence_label", -100)
            label[r] = row.get("label", -100)
        out.append((ids, types, mask, labels, nsp, label))
    return out


def losses(task, w, data, heads):
    ids, types, mask, labels, nsp, label = data
    x, pooled = bert(w, ids, types, mask, heads)
    ce = torch.nn.functional.cross_entropy
    if task == "classify":
        return {"loss": ce(linear(w, "classifier", pooled), label, ignore_index=-100)}
    logits = mlm_logits(w, x)
    mlm = ce(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
    nsp_loss = ce(linear(w, "cls.seq_relationship", pooled), nsp, ignore_index=-100)
    return {"loss": mlm + nsp_loss, "mlm_loss": mlm, "nsp_loss": nsp_loss}


class BertAdam:
    """The original BERT optimizer: AdamW without bias correction."""

    def __init__(self, groups, lr, betas=(0.9, 0.999), eps=1e-6):
        self.groups, self.lr, self.betas, self.eps = groups, lr, betas, eps
        self.state = {}

    @torch.no_grad()
    def step(self):
        b1, b2 = self.betas
        for group in self.groups:
            for p in group["params"]:
                m, v = self.state.setdefault(p, (torch.zeros_like(p), torch.zeros_like(p)))
                m.mul_(b1).add_(p.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                update = m / (v.sqrt() + self.eps) + group["weight_decay"] * p
                p.sub_(self.lr * update)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=["pretrain", "classify"], required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--grads", required=True)
    ap.add_argument("--losses", required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--bias-correction", type=int, default=1)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()

    w = read_safetensors(args.weights)
    for t in w.values():
        t.requires_grad_()
    got_grads = read_safetensors(args.grads)
    steps = [json.loads(line) for line in open(args.losses) if line.strip()]
    data = batches(args.data, args.batch, args.seq)
    no_decay = lambda n: n.endswith(".bias") or "LayerNorm" in n
    groups = [{"params": [w[n] for n in sorted(w) if not no_decay(n)], "weight_decay": 0.01},
              {"params": [w[n] for n in sorted(w) if no_decay(n)], "weight_decay": 0.0}]
    if args.bias_correction:
        opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.999), eps=1e-6)
    else:
        opt = BertAdam(groups, lr=args.lr)

    worst_grad = worst_loss = 0.0
    for i, line in enumerate(steps):
        ref = losses(args.task, w, data[i % len(data)], args.heads)
        ref["loss"].backward()
        if i == 0:
            missing = sorted(n for n in w if w[n].grad is not None and n not in got_grads)
            if missing:
                print(f"gradients missing from {args.grads}: {missing}")
                return 1
            # A gradient that is zero in exact arithmetic (the attention key
            # bias: softmax ignores a shift shared by a row) is measured against
            # 1e-5 of the model's largest gradient instead of its own noise.
            floor = 1e-5 * max(w[n].grad.abs().max().item() for n in got_grads)
            print(f"{'parameter gradient (step 1)':58s} {'max |ref|':>10s}  max rel diff")
            for name in sorted(got_grads):
                g = w[name].grad
                scale = g.abs().max().item()
                rel = (got_grads[name].double() - g).abs().max().item() / max(scale, floor)
                note = "  (exactly 0 in exact arithmetic; vs 1e-5 of the largest)" if scale < floor else ""
                print(f"{name:58s} {scale:10.4g}  {rel:.3e}{note}")
                worst_grad = max(worst_grad, rel)
        torch.nn.utils.clip_grad_norm_(list(w.values()), 1.0)
        opt.step()
        for t in w.values():
            t.grad = None
        diffs = {k: abs(line[k] - v.item()) for k, v in ref.items()}
        print(f"step {line['step']:2d}  loss {line['loss']:.7f}  reference {ref['loss'].item():.7f}"
              + "".join(f"  |d {k}| {d:.2e}" for k, d in diffs.items()))
        worst_loss = max([worst_loss] + list(diffs.values()))
    ok = worst_grad <= args.tolerance and worst_loss <= args.tolerance
    print(f"max gradient rel diff {worst_grad:.3e}, max loss diff {worst_loss:.3e} over "
          f"{len(steps)} steps ({'within' if ok else 'OVER'} tolerance {args.tolerance:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
