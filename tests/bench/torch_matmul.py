#!/usr/bin/env python3
"""fp32 matmul GFLOP/s in PyTorch at BERT's shapes, 2 threads, OpenBLAS.

Run with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp so that
torch uses OpenBLAS rather than the reference BLAS (tests/bench/compare.sh
does). Prints one line per shape: `M K N GFLOP/s`.
"""
import sys
import time

import torch

SHAPES = [(4096, 256, 256), (256, 1024, 256), (1024, 256, 256),
          (768, 768, 768), (768, 3072, 768), (3072, 768, 768)]


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    for m, k, n in SHAPES:
        a = torch.randn(m, k)
        b = torch.randn(k, n)
        c = torch.empty(m, n)
        for _ in range(3):
            torch.matmul(a, b, out=c)
        times = []
        for _ in range(20):
            t = time.perf_counter()
            torch.matmul(a, b, out=c)
            times.append(time.perf_counter() - t)
        times.sort()
        best = times[len(times) // 2]
        print(f"{m} {k} {n} {2 * m * k * n / best / 1e9:.1f}")


if __name__ == "__main__":
    main()
