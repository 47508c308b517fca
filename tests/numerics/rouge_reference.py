#!/usr/bin/env python3
"""An independent ROUGE, checked against bertc's.

    rouge_reference.py PER_DOCUMENT.jsonl [--tolerance 1e-12]

Reads the per-document file `eval-summarize --per-document` writes (each
system's chosen sentences and its ROUGE-1/2/L F1 against the reference) and
recomputes every score here: lower-cased alphanumeric tokens (runs of ASCII
letters and digits), ROUGE-N F1 by clipped n-gram overlap, ROUGE-L F1 by
the longest common subsequence. First checks worked cases. Prints the
largest difference and exits 1 above the tolerance.
"""
import argparse
import json
import re
import sys
from collections import Counter


def tokens(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def f1(overlap, candidate, reference):
    if overlap == 0 or candidate == 0 or reference == 0:
        return 0.0
    p, r = overlap / candidate, overlap / reference
    return 2 * p * r / (p + r)


def rouge_n(c, r, n):
    cg = Counter(tuple(c[i:i + n]) for i in range(len(c) - n + 1))
    rg = Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1))
    return f1(sum((cg & rg).values()), sum(cg.values()), sum(rg.values()))


def rouge_l(c, r):
    if not c or not r:
        return 0.0
    table = [[0] * (len(r) + 1) for _ in range(len(c) + 1)]
    for i in range(1, len(c) + 1):
        for j in range(1, len(r) + 1):
            table[i][j] = table[i - 1][j - 1] + 1 if c[i - 1] == r[j - 1] else max(table[i - 1][j], table[i][j - 1])
    return f1(table[-1][-1], len(c), len(r))


def scores(candidate, reference):
    c, r = tokens(candidate), tokens(reference)
    return {"rouge1": rouge_n(c, r, 1), "rouge2": rouge_n(c, r, 2), "rougeL": rouge_l(c, r)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("per_document")
    ap.add_argument("--tolerance", type=float, default=1e-12)
    args = ap.parse_args()
    worked = scores("the cat sat on the mat", "The cat is on the mat.")
    assert abs(worked["rouge1"] - 5 / 6) < 1e-15 and abs(worked["rouge2"] - 0.6) < 1e-15, worked
    assert abs(scores("the the the", "the cat")["rouge1"] - 0.4) < 1e-15
    worst, where, count = 0.0, "", 0
    for line in open(args.per_document, encoding="utf-8"):
        row = json.loads(line)
        for system, got in row.items():
            if not isinstance(got, dict):
                continue
            want = scores(" ".join(got["sentences"]), row["reference"])
            for key, value in want.items():
                count += 1
                d = abs(got[key] - value)
                if d > worst:
                    worst, where = d, f"{row['document']} {system} {key}"
    ok = count > 0 and worst <= args.tolerance
    print(f"{count} ROUGE scores recomputed: max abs diff {worst:.3e}{' at ' + where if where else ''} "
          f"({'within' if ok else 'OVER'} tolerance {args.tolerance:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
