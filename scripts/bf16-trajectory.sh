#!/usr/bin/env bash
# bf16 against fp32 pretraining on real text (the demo's corpus), and both
# against PyTorch: BERT's pretraining step compiled twice, --precision fp32
# and bf16, each trained for STEPS steps from the same initial weights and
# instances (--seed 1, dropout off so that PyTorch can follow the same
# function); then PyTorch's trajectory on those instances from those
# weights, in float32 and under torch.autocast("cpu", dtype=torch.bfloat16)
# (tests/numerics/torch_trajectory.py). Prints the mean loss of every
# 20-step window of the four runs and the relative differences; exits 1 if
# a window of bertc bf16 differs by more than 2% from bertc fp32 or from
# PyTorch's autocast run.
# Usage: scripts/bf16-trajectory.sh [PRESET] [STEPS] [OUT_DIR]
#        (default tiny, 300, bf16-trajectory-out; BUILD_DIR=build)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-tiny}" steps="${2:-300}" out="${3:-bf16-trajectory-out}"
build="${BUILD_DIR:-build}"
data="${BERTC_DATA:-$HOME/.cache/bertc/data}"
heads=$(sed -n "s/^preset $preset .*heads = *\([0-9]*\).*/\1/p" models/bert.bertc)
[ -n "$heads" ] || { echo "bf16-trajectory.sh: no preset $preset in models/bert.bertc" >&2; exit 2; }
batch=16 lr=1e-3 warmup=$((steps / 10))
scripts/install-data.sh "$data" >/dev/null
cmake --build "$build" --target bertc BertcRuntimeMain >/dev/null
rm -rf "$out"
mkdir -p "$out"
grep -m1 'model name' /proc/cpuinfo
for precision in fp32 bf16; do
  "$build/bin/bertc" compile models/bert.bertc --preset "$preset" --task pretrain --batch "$batch" \
    --seq 128 --target cpu --precision "$precision" -o "$out/$precision"
  "$out/$precision" info | grep precision
  "$out/$precision" pretrain --corpus "$data/corpus" --vocab "$data/vocab.txt" \
    --save "$out/run-$precision" --steps "$steps" --lr "$lr" --warmup "$warmup" \
    --save-every "$steps" --seed 1 --dupe-factor 5 --dropout 0 --threads 2 \
    >"$out/$precision.log" 2>&1
  tail -n 1 "$out/run-$precision/metrics.jsonl"
done
"$out/fp32" init --seed 1 --output "$out/init.safetensors"
for precision in fp32 bf16; do
  /usr/bin/python3 tests/numerics/torch_trajectory.py --weights "$out/init.safetensors" \
    --data "$out/run-fp32/data" --heads "$heads" --batch "$batch" --steps "$steps" --lr "$lr" \
    --warmup "$warmup" --precision "$precision" --out "$out/torch-$precision.jsonl"
  tail -n 1 "$out/torch-$precision.jsonl"
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def losses(path):
    return [json.loads(l)["loss"] for l in open(f"{out}/{path}") if l.strip()]
runs = {"bertc fp32": losses("run-fp32/metrics.jsonl"), "bertc bf16": losses("run-bf16/metrics.jsonl"),
        "torch fp32": losses("torch-fp32.jsonl"), "torch bf16": losses("torch-bf16.jsonl")}
n = min(len(v) for v in runs.values())
pairs = [("bertc bf16", "bertc fp32", True), ("bertc bf16", "torch bf16", True),
         ("torch bf16", "bertc fp32", False), ("bertc fp32", "torch fp32", False)]
labels = [f"{a} vs {b}" for a, b, _ in pairs]
print(f"{'steps':>11s}" + "".join(f" {k:>10s}" for k in runs) + "".join(f" {l:>24s}" for l in labels))
worst = {p[:2]: 0.0 for p in pairs}
for start in range(0, n - 19, 20):
    mean = {k: sum(v[start:start + 20]) / 20 for k, v in runs.items()}
    row = f"{start + 1:5d}-{start + 20:<5d}" + "".join(f" {m:10.4f}" for m in mean.values())
    for a, b, _ in pairs:
        rel = abs(mean[a] - mean[b]) / abs(mean[b])
        worst[(a, b)] = max(worst[(a, b)], rel)
        row += f" {100 * rel:23.3f}%"
    print(row)
ok = True
for a, b, gate in pairs:
    w = worst[(a, b)]
    verdict = ("within" if w <= 0.02 else "OVER") + " 2%" if gate else "(for reference)"
    ok &= not gate or w <= 0.02
    print(f"largest window difference {a} vs {b}: {100 * w:.3f}% {verdict}")
sys.exit(0 if ok else 1)
PY
