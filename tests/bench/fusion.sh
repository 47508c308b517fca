#!/usr/bin/env bash
# Fused against unfused kernels for the BERT-mini pretraining step (batch 32,
# seq 128, 2 threads), with PyTorch's same step measured in the same run:
# `bertc bench` (both variants alternately, their first steps compared),
# then PyTorch, then `bertc bench` again, so that both see the same machine.
# Usage: tests/bench/fusion.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build}"
cmake --build "$build" --target bertc >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=2
bench() {
  "$build/bin/bertc" bench models/bert.bertc --preset mini --task pretrain --batch 32 --seq 128 \
    --target cpu --threads 2 --steps 5 --json "$work/bertc-$1.json"
}
bench 1
/usr/bin/python3 tests/bench/torch_train_bench.py pretrain > "$work/torch.json"
bench 2 > "$work/bertc-2.txt"
/usr/bin/python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
torch = json.load(open(f"{work}/torch.json"))["pretrain"]["tokens/s"]
runs = [json.load(open(f"{work}/bertc-{i}.json"))["benchmarks"] for i in (1, 2)]
print()
print(f"{'BERT-mini pretrain step, tokens/s':36s} {'run 1':>9s} {'run 2':>9s}")
for variant in ("fused", "unfused"):
    values = [next(b for b in r if b["name"].endswith(variant))["tokens_per_second"] for r in runs]
    print(f"{'bertc ' + variant:36s} {values[0]:9.0f} {values[1]:9.0f}")
print(f"{'PyTorch 1.13 (between the runs)':36s} {torch:9.0f}")
PY
