#!/usr/bin/env python3
"""An independent BERT forward pass in PyTorch (float64), compared with a
bertc-compiled program's outputs on the same weights and inputs.

    bert_reference.py --weights w.safetensors --input batch.jsonl \
        --outputs out.safetensors --heads 2 --batch 2 --seq 16 [--tolerance 1e-4]

The weights are HuggingFace-named (BertForPreTraining). The batch is padded
exactly as the bertc runtime pads it. Prints the max abs difference of every
output and exits 1 if one exceeds the tolerance.
"""
import argparse
import json
import math
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[entry["dtype"]])
        tensors[name] = torch.from_numpy(array.reshape(entry["shape"]).astype(np.float64)
                                         if entry["dtype"] != "I32" else
                                         array.reshape(entry["shape"]).copy())
    return tensors


def pad_batch(path, batch, seq, max_predictions):
    """Mirrors runtime/train/Batch.cpp: ids and types pad with 0, masks cover the
    given tokens, label lists pad with -100."""
    rows = [json.loads(line) for line in open(path) if line.strip()]
    ids = torch.zeros(batch, seq, dtype=torch.long)
    types = torch.zeros(batch, seq, dtype=torch.long)
    mask = torch.zeros(batch, seq, dtype=torch.float64)
    positions = torch.zeros(batch, max_predictions, dtype=torch.long)
    labels = torch.full((batch, max_predictions), -100, dtype=torch.long)
    nsp = torch.full((batch,), -100, dtype=torch.long)
    sentences = torch.zeros(batch, max_predictions, dtype=torch.float64)
    for r, row in enumerate(rows):
        n = len(row["input_ids"])
        ids[r, :n] = torch.tensor(row["input_ids"])
        if "token_type_ids" in row:
            types[r, :len(row["token_type_ids"])] = torch.tensor(row["token_type_ids"])
        if "attention_mask" in row:
            mask[r, :len(row["attention_mask"])] = torch.tensor(row["attention_mask"], dtype=torch.float64)
        else:
            mask[r, :n] = 1
        if "masked_lm_positions" in row:
            p = row["masked_lm_positions"]
            positions[r, :len(p)] = torch.tensor(p)
        if "masked_lm_labels" in row:
            l = row["masked_lm_labels"]
            labels[r, :len(l)] = torch.tensor(l)
        if "next_sentence_label" in row:
            nsp[r] = row["next_sentence_label"]
        if "cls_positions" in row:  # summarize: the sentences' [CLS] and labels.
            p, l = row["cls_positions"], row["sentence_labels"]
            positions[r, :len(p)] = torch.tensor(p)
            labels[r, :len(l)] = torch.tensor(l)
            sentences[r, :len(p)] = 1
    return ids, types, mask, positions, labels, nsp, sentences


def layer_norm(x, w, b, eps=1e-12):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def linear(w, prefix, x):
    return x @ w[prefix + ".weight"].T + w[prefix + ".bias"]


def encoder_layer(w, p, x, bias, heads):
    """A post-norm transformer layer named p over x [batch, len, hidden]; bias
    [batch, 1, 1, len] is added to the attention scores."""
    batch, length, hidden = x.shape
    d = hidden // heads
    split = lambda t: t.view(batch, length, heads, d).transpose(1, 2)
    q = split(linear(w, p + ".attention.self.query", x))
    k = split(linear(w, p + ".attention.self.key", x))
    v = split(linear(w, p + ".attention.self.value", x))
    probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, dim=-1)
    ctx = (probs @ v).transpose(1, 2).reshape(batch, length, hidden)
    h = layer_norm(linear(w, p + ".attention.output.dense", ctx) + x,
                   w[p + ".attention.output.LayerNorm.weight"], w[p + ".attention.output.LayerNorm.bias"])
    ffn = linear(w, p + ".output.dense", gelu(linear(w, p + ".intermediate.dense", h)))
    return layer_norm(ffn + h, w[p + ".output.LayerNorm.weight"], w[p + ".output.LayerNorm.bias"])


def bert(w, ids, types, mask, heads):
    batch, seq = ids.shape
    hidden = w["bert.embeddings.word_embeddings.weight"].shape[1]
    d = hidden // heads
    x = (w["bert.embeddings.word_embeddings.weight"][ids]
         + w["bert.embeddings.position_embeddings.weight"][:seq][None]
         + w["bert.embeddings.token_type_embeddings.weight"][types])
    x = layer_norm(x, w["bert.embeddings.LayerNorm.weight"], w["bert.embeddings.LayerNorm.bias"])
    bias = (1.0 - mask)[:, None, None, :] * -10000.0
    i = 0
    while f"bert.encoder.layer.{i}.attention.self.query.weight" in w:
        x = encoder_layer(w, f"bert.encoder.layer.{i}", x, bias, heads)
        i += 1
    # A task that never reads the pooled vector (summarize) has no pooler.
    pooled = torch.tanh(linear(w, "bert.pooler.dense", x[:, 0])) if "bert.pooler.dense.weight" in w else None
    return x, pooled


def mlm_logits(w, h):
    t = gelu(linear(w, "cls.predictions.transform.dense", h))
    t = layer_norm(t, w["cls.predictions.transform.LayerNorm.weight"], w["cls.predictions.transform.LayerNorm.bias"])
    return t @ w["bert.embeddings.word_embeddings.weight"].T + w["cls.predictions.bias"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--outputs", required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--gradients", action="store_true",
                    help="also compare every grad:NAME output with autograd (max rel diff)")
    args = ap.parse_args()

    w = read_safetensors(args.weights)
    got = read_safetensors(args.outputs)
    got_names = set(read_safetensors(args.outputs))
    # Slots per row: masked positions (pretrain) or sentences (summarize).
    max_predictions = args.seq // 8 if "scores" in got_names else (args.seq * 15 + 99) // 100
    ids, types, mask, positions, labels, nsp, sentences = pad_batch(
        args.input, args.batch, args.seq, max_predictions)
    if args.gradients:
        for t in w.values():
            t.requires_grad_()
    near_max = {}  # predictions: checked against the reference's logits
    with torch.set_grad_enabled(args.gradients):
        x, pooled = bert(w, ids, types, mask, args.heads)
        expected = {"sequence_output": x, "pooled_output": pooled}
        if "mlm_logits" in got:
            expected["mlm_logits"] = mlm_logits(w, x)
        if "mlm_loss" in got:
            gathered = torch.gather(x, 1, positions[:, :, None].expand(-1, -1, x.shape[-1]))
            logits = mlm_logits(w, gathered)
            expected["mlm_loss"] = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
            nsp_logits = linear(w, "cls.seq_relationship", pooled)
            expected["nsp_loss"] = torch.nn.functional.cross_entropy(nsp_logits, nsp, ignore_index=-100)
            expected["loss"] = expected["mlm_loss"] + expected["nsp_loss"]
            near_max["mlm_predictions"] = logits
            near_max["nsp_predictions"] = nsp_logits
        if "scores" in got:
            gathered = torch.gather(x, 1, positions[:, :, None].expand(-1, -1, x.shape[-1]))
            if "summarizer.layer.attention.self.query.weight" in w:  # summarize_transformer
                gathered = gathered + w["summarizer.position_embeddings.weight"][None]
                bias = (1.0 - sentences)[:, None, None, :] * -10000.0
                gathered = encoder_layer(w, "summarizer.layer", gathered, bias, args.heads)
            scores = linear(w, "summarizer.classifier", gathered)
            expected["scores"] = scores
            expected["loss"] = torch.nn.functional.cross_entropy(
                scores.reshape(-1, 2), labels.reshape(-1), ignore_index=-100)
    if args.gradients:
        expected["loss"].backward()
        for name in sorted(w):
            if w[name].grad is not None:
                expected["grad:" + name] = w[name].grad
        expected = {k: v.detach() for k, v in expected.items() if v is not None}
    worst = 0.0
    for name, logits in near_max.items():
        # The predicted class must be a maximum of the reference's logits up
        # to the tolerance (exact ties between near-equal logits may differ).
        logits = logits.detach()
        picked = torch.gather(logits, -1, got[name].long()[..., None])[..., 0]
        gap = (logits.max(-1).values - picked).max().item()
        print(f"{name:16s} shape {list(got[name].shape)!s:18s} largest gap to the reference's max logit {gap:.3e}")
        worst = max(worst, gap)
    unchecked = sorted(set(got) - set(expected) - set(near_max))
    if unchecked:
        print(f"outputs without a reference: {unchecked}")
        return 1
    for name, ref in expected.items():
        if name not in got:
            continue
        diff = (got[name].double() - ref).abs().max().item()
        scale = ref.abs().max().item()
        if name.startswith("grad:"):
            # Gradients: relative to the tensor's largest entry.
            rel = diff / max(scale, 1e-12)
            print(f"{name:60s} max |ref| {scale:10.4g}  max rel diff {rel:.3e}")
            worst = max(worst, rel)
            continue
        print(f"{name:16s} shape {list(ref.shape)!s:18s} max |ref| {scale:10.4g}  max abs diff {diff:.3e}")
        worst = max(worst, diff)
    ok = worst <= args.tolerance
    print(f"max abs diff {worst:.3e} ({'within' if ok else 'OVER'} tolerance {args.tolerance:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
