#!/usr/bin/env python3
"""The floor of every benchmark task: a bag-of-words logistic regression.

Usage: bow-baseline.py [DATA_DIR] [--json FILE] [--tasks NAME,...]
       (default ~/.cache/bertc/data; the tasks scripts/make-tasks.py wrote,
       all of them or those named; the tasks FILE already has are kept, not
       computed again)

Features: lower-cased word unigrams and bigrams present in at least 2
training texts (the 50,000 most frequent), binary, each row scaled to unit
length. A softmax regression over the classes, full-batch Adam for 300
steps from zero, L2 penalty chosen on dev from 1e-5, 1e-4 and 1e-3. Prints
each task's metric (accuracy, or the F1 of one class where tasks.tsv says
f1:LABEL) on dev and test; numpy only, deterministic.
"""
import csv
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arff  # noqa: E402

csv.field_size_limit(1 << 30)


def read(path, ext, text_col, label_col):
    """(texts, labels) of one split."""
    if ext == "csv":
        with open(path, encoding="utf-8", newline="") as f:
            rows = [r for r in csv.reader(f) if r]
        return [r[int(text_col)] for r in rows], [r[int(label_col)] for r in rows]
    if ext == "jsonl":
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(l) for l in f if l.strip()]
        return [r[text_col] for r in rows], [str(r[label_col]) for r in rows]
    header, lines = arff.read(path)
    names = arff.attributes(header)
    records = [arff.values(l) for l in lines]
    t, y = names.index(text_col), names.index(label_col)
    return [r[t] for r in records], [r[y] for r in records]


def grams(text):
    words = re.findall(r"[a-z0-9']+", text.lower())
    return set(words) | {a + " " + b for a, b in zip(words, words[1:])}


def features(texts, vocab):
    x = np.zeros((len(texts), len(vocab)), dtype=np.float32)
    for i, t in enumerate(texts):
        for g in grams(t):
            j = vocab.get(g)
            if j is not None:
                x[i, j] = 1.0
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def train(x, y, classes, penalty, steps=300, lr=0.1):
    """Softmax regression by full-batch Adam; returns (W, b)."""
    n, f = x.shape
    w, b = np.zeros((f, classes), np.float32), np.zeros(classes, np.float32)
    m = [np.zeros_like(w), np.zeros_like(b)]
    v = [np.zeros_like(w), np.zeros_like(b)]
    onehot = np.eye(classes, dtype=np.float32)[y]
    for t in range(1, steps + 1):
        logits = x @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / n
        grads = [x.T @ g + penalty * w, g.sum(axis=0)]
        for k, (param, grad) in enumerate(zip((w, b), grads)):
            m[k] = 0.9 * m[k] + 0.1 * grad
            v[k] = 0.999 * v[k] + 0.001 * grad * grad
            param -= lr * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
    return w, b


def score(metric, labels, gold, predicted):
    if metric == "accuracy":
        return float(np.mean(gold == predicted))
    positive = labels.index(metric.split(":", 1)[1])
    tp = np.sum((predicted == positive) & (gold == positive))
    fp = np.sum((predicted == positive) & (gold != positive))
    fn = np.sum((predicted != positive) & (gold == positive))
    return float(2 * tp / max(2 * tp + fp + fn, 1))


def main():
    args = sys.argv[1:]
    options = {}
    for name in ("--json", "--tasks"):
        if name in args:
            options[name] = args[args.index(name) + 1]
            del args[args.index(name):args.index(name) + 2]
    out = options.get("--json")
    data = args[0] if args else os.path.expanduser("~/.cache/bertc/data")
    tasks = os.path.join(data, "tasks")
    with open(os.path.join(tasks, "tasks.tsv"), encoding="utf-8") as f:
        rows = [l.rstrip("\n").split("\t") for l in f][1:]
    if "--tasks" in options:
        wanted = options["--tasks"].split(",")
        unknown = set(wanted) - {r[0] for r in rows}
        if unknown:
            sys.exit(f"bow-baseline: no task {', '.join(sorted(unknown))} in {tasks}/tasks.tsv")
        rows = [r for r in rows if r[0] in wanted]
    results = {}
    if out and os.path.exists(out):
        with open(out, encoding="utf-8") as f:
            results = json.load(f)
        rows = [r for r in rows if r[0] not in results]
    print(f"{'task':<22} {'metric':<9} {'dev':>7} {'test':>7}  (bag-of-words logistic regression)")
    for name, ext, text_col, label_col, metric, _ in rows:
        split = {s: read(os.path.join(tasks, name, f"{s}.{ext}"), ext, text_col, label_col)
                 for s in ("train", "dev", "test")}
        labels = sorted(set(split["train"][1]))
        df = {}
        for t in split["train"][0]:
            for g in grams(t):
                df[g] = df.get(g, 0) + 1
        kept = sorted((g for g, c in df.items() if c >= 2), key=lambda g: (-df[g], g))[:50000]
        vocab = {g: j for j, g in enumerate(kept)}
        x = {s: features(split[s][0], vocab) for s in split}
        y = {s: np.array([labels.index(l) for l in split[s][1]]) for s in split}
        best = None
        for penalty in (1e-5, 1e-4, 1e-3):
            w, b = train(x["train"], y["train"], len(labels), penalty)
            dev = score(metric, labels, y["dev"], np.argmax(x["dev"] @ w + b, axis=1))
            if best is None or dev > best[0]:
                test = score(metric, labels, y["test"], np.argmax(x["test"] @ w + b, axis=1))
                best = (dev, test, penalty)
        results[name] = {"metric": metric, "dev": best[0], "test": best[1], "penalty": best[2]}
        print(f"{name:<22} {metric:<9} {best[0]:>7.4f} {best[1]:>7.4f}  (L2 {best[2]:g}, "
              f"{len(vocab)} features)")
    if out:
        with open(out + ".tmp", "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
        os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
