#!/usr/bin/env python3
"""PyTorch's pretraining trajectory on the instances a bertc `pretrain` run
built, from the same initial weights: the independent reference of
scripts/bf16-trajectory.sh.

    torch_trajectory.py --weights init.safetensors --data RUN/data --heads 4 \
        --batch 16 --steps 300 --lr 1e-3 --warmup 30 --precision bf16 \
        --out losses.jsonl

Reads the shards listed in RUN/data/manifest.json (the format of
runtime/train/PretrainData.h) in order, batch i from instance i*B on
(cycling), padded as the runtime pads them; the learning rate follows the
runtime's schedule (linear warm-up for W steps, linear decay to 0 at the
last step). The model is bert_reference.py's BERT in float32 with dropout
off; the MLM head runs at the masked positions; the loss is MLM + NSP;
gradients clipped to a global norm of 1.0; torch.optim.AdamW (betas
0.9/0.999, eps 1e-6, weight decay 0.01 except biases and LayerNorm weights).
`--precision bf16` runs the forward pass under
torch.autocast("cpu", dtype=torch.bfloat16) (oneDNN's bf16 matmuls; every
other op of bert_reference.py already computes in float32 there). Writes
one JSON line per step: {"step", "loss", "mlm_loss", "nsp_loss"}.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import bert, linear, mlm_logits, read_safetensors  # noqa: E402

HEADER_BYTES = 64


def read_shards(data_dir):
    """Every instance of the run's shards, in order, as numpy records."""
    manifest = json.load(open(os.path.join(data_dir, "manifest.json")))
    out = []
    for name in manifest["shards"]:
        raw = open(os.path.join(data_dir, name), "rb").read()
        if raw[:8] != b"BERTCSH1":
            sys.exit(f"{name}: not a bertc shard")
        version, seq, preds, _vocab = struct.unpack_from("<4I", raw, 8)
        (count,) = struct.unpack_from("<Q", raw, 24)
        if version != 1:
            sys.exit(f"{name}: shard version {version}, this reader knows 1")
        record = np.dtype([("length", "<u2"), ("segment_a", "<u2"), ("predictions", "<u2"),
                           ("nsp", "u1"), ("pad", "u1"), ("tokens", "<u2", seq),
                           ("positions", "<u2", preds), ("labels", "<u2", preds)])
        out.append(np.frombuffer(raw, dtype=record, count=count, offset=HEADER_BYTES))
    return np.concatenate(out), seq, preds


def batch_at(records, first, batch, seq, preds):
    """runtime/train/Pretrain.cpp's fillInstances for instances first ... first+batch-1."""
    rows = records[(first + np.arange(batch)) % len(records)]
    t = np.arange(seq)[None, :]
    present = t < rows["length"][:, None]
    ids = torch.from_numpy(np.where(present, rows["tokens"], 0).astype(np.int64))
    types = torch.from_numpy((present & (t >= rows["segment_a"][:, None])).astype(np.int64))
    mask = torch.from_numpy(present.astype(np.float32))
    used = np.arange(preds)[None, :] < rows["predictions"][:, None]
    positions = torch.from_numpy(np.where(used, rows["positions"], 0).astype(np.int64))
    labels = torch.from_numpy(np.where(used, rows["labels"], -100).astype(np.int64))
    nsp = torch.from_numpy(rows["nsp"].astype(np.int64))
    return ids, types, mask, positions, labels, nsp


def schedule(peak, t, warmup, steps):
    """runtime/train/Pretrain.cpp's linearSchedule."""
    if t <= warmup:
        return peak * t / warmup
    return peak * (steps - t) / (steps - warmup)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--data", required=True, help="the pretrain run's data directory")
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--warmup", type=int, required=True)
    ap.add_argument("--precision", choices=["fp32", "bf16"], required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    w = {n: t.float().requires_grad_() for n, t in read_safetensors(args.weights).items()}
    records, seq, preds = read_shards(args.data)
    no_decay = lambda n: n.endswith(".bias") or "LayerNorm" in n
    groups = [{"params": [w[n] for n in sorted(w) if not no_decay(n)], "weight_decay": 0.01},
              {"params": [w[n] for n in sorted(w) if no_decay(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.999), eps=1e-6)
    ce = torch.nn.functional.cross_entropy
    with open(args.out, "w") as out:
        for step in range(1, args.steps + 1):
            ids, types, mask, positions, labels, nsp = batch_at(
                records, (step - 1) * args.batch, args.batch, seq, preds)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
                x, pooled = bert(w, ids, types, mask, args.heads)
                gathered = torch.gather(x, 1, positions[:, :, None].expand(-1, -1, x.shape[-1]))
                logits = mlm_logits(w, gathered).float()
                nsp_logits = linear(w, "cls.seq_relationship", pooled).float()
            mlm = ce(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
            nsp_loss = ce(nsp_logits, nsp, ignore_index=-100)
            loss = mlm + nsp_loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(w.values()), 1.0)
            for group in opt.param_groups:
                group["lr"] = schedule(args.lr, step, args.warmup, args.steps)
            opt.step()
            opt.zero_grad(set_to_none=True)
            out.write(json.dumps({"step": step, "loss": loss.item(), "mlm_loss": mlm.item(),
                                  "nsp_loss": nsp_loss.item()}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
