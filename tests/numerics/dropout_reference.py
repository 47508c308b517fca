#!/usr/bin/env python3
"""Checks a compiled program's training-time dropout (data/dropout.bertc,
compiled with --step=gradients) against an independent NumPy Philox4x32-10.

    dropout_reference.py write-input INPUT.jsonl
    dropout_reference.py check INPUT.jsonl OUTPUTS.safetensors SEED

The NumPy generator is first checked against Random123's published
known-answer vectors. Element i of dropout site s keeps its value when the
top 24 bits of the first Philox word for counter (i mod 2^32, i div 2^32,
step, 0) and key (seed, s), over 2^24, are >= the rate (step 1 under
`infer`). Outputs, gradient and the kept fractions are compared exactly.
"""
import json
import sys

import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
from bert_reference import read_safetensors  # noqa: E402

U = np.uint64
M0, M1, W0, W1 = U(0xD2511F53), U(0xCD9E8D57), U(0x9E3779B9), U(0xBB67AE85)
MASK, SHIFT = U(0xFFFFFFFF), U(32)
KAT = [((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
       ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
       ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]


def philox(c, k):
    """Philox4x32-10 on arrays of uint64 holding 32-bit words."""
    c = [np.asarray(x, dtype=U) & MASK for x in c]
    k = [np.asarray(x, dtype=U) & MASK for x in k]
    for r in range(10):
        if r:
            k = [(k[0] + W0) & MASK, (k[1] + W1) & MASK]
        p0, p1 = c[0] * M0, c[2] * M1
        c = [((p1 >> SHIFT) ^ c[1] ^ k[0]) & MASK, p1 & MASK,
             ((p0 >> SHIFT) ^ c[3] ^ k[1]) & MASK, p0 & MASK]
    return c


def mask(shape, rate, site, seed, step=1):
    i = np.arange(int(np.prod(shape)), dtype=U)
    full = lambda v: np.full(i.shape, v, dtype=U)
    word = philox([i & MASK, i >> SHIFT, full(step), full(0)], [full(seed), full(site)])[0]
    u = (word >> U(8)).astype(np.float32) * np.float32(2.0 ** -24)
    p = np.float32(rate)
    return (u >= p).reshape(shape), np.float32(1) - p


def main():
    for c, k, expected in KAT:
        got = tuple(int(w) for w in philox(c, k))
        if got != expected:
            print(f"NumPy Philox fails the known answer for {c}, {k}: {got}")
            return 1
    print("NumPy Philox4x32-10 matches Random123's three known-answer vectors")
    shape = (67, 129)
    if sys.argv[1] == "write-input":
        x = np.random.default_rng(3).uniform(0.5, 1.5, shape).astype(np.float32)
        with open(sys.argv[2], "w") as f:
            for row in x:
                f.write(json.dumps({"x": [float(v) for v in row]}) + "\n")
        return 0
    rows = [json.loads(line)["x"] for line in open(sys.argv[2])]
    x = np.array(rows, dtype=np.float32)
    out = {k: v.numpy() for k, v in read_safetensors(sys.argv[3]).items()}
    seed = int(sys.argv[4])
    keep_a, keep_scale_a = mask(shape, 0.3, 1, seed)
    keep_b, keep_scale_b = mask(shape, 0.5, 2, seed)
    a = np.where(keep_a, x / keep_scale_a, np.float32(0))
    b = np.where(keep_b, a / keep_scale_b, np.float32(0))
    # d sum(b) / dw with w = 1: both masks and scales applied to x.
    gw = np.where(keep_a & keep_b, x / keep_scale_a / keep_scale_b, np.float32(0))
    ok = True
    for name, ref in (("a", a), ("b", b), ("grad:w", gw)):
        got = out[name].astype(np.float32)
        same_mask = np.array_equal(got != 0, ref != 0)
        diff = np.abs(got - ref).max() / np.abs(ref).max()
        print(f"{name:7s} mask {'identical' if same_mask else 'DIFFERENT'}, max rel diff {diff:.2e}")
        ok = ok and same_mask and diff <= 1e-6
    n = keep_a.size
    for name, keep, rate in (("site 1", keep_a, 0.3), ("site 2", keep_b, 0.5)):
        frac = keep.mean()
        sigma = (rate * (1 - rate) / n) ** 0.5
        print(f"{name}: kept {frac:.4f} of {n} (expected {1 - rate:.2f} +- {4 * sigma:.4f})")
        ok = ok and abs(frac - (1 - rate)) <= 4 * sigma
    if np.array_equal(keep_a, mask(shape, 0.3, 1, seed + 1)[0]):
        print("the mask does not depend on the seed")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
