#!/usr/bin/env bash
# bf16 against fp32 pretraining on real text (the demo's corpus): BERT's
# pretraining step compiled twice, --precision fp32 and bf16, each trained
# for STEPS steps from the same initial weights, data and dropout masks
# (all from --seed 1); prints the mean loss of every 20-step window of both
# and their relative difference, and exits 1 if one window differs by more
# than 2%.
# Usage: scripts/bf16-trajectory.sh [PRESET] [STEPS] [OUT_DIR]
#        (default tiny, 300, bf16-trajectory-out; BUILD_DIR=build)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-tiny}" steps="${2:-300}" out="${3:-bf16-trajectory-out}"
build="${BUILD_DIR:-build}"
data="${BERTC_DATA:-$HOME/.cache/bertc/data}"
scripts/install-data.sh "$data" >/dev/null
cmake --build "$build" --target bertc BertcRuntimeMain >/dev/null
rm -rf "$out"
mkdir -p "$out"
grep -m1 'model name' /proc/cpuinfo
for precision in fp32 bf16; do
  "$build/bin/bertc" compile models/bert.bertc --preset "$preset" --task pretrain --batch 16 \
    --seq 128 --target cpu --precision "$precision" -o "$out/$precision"
  "$out/$precision" info | grep precision
  "$out/$precision" pretrain --corpus "$data/corpus" --vocab "$data/vocab.txt" \
    --save "$out/run-$precision" --steps "$steps" --lr 1e-3 --warmup $((steps / 10)) \
    --save-every "$steps" --seed 1 --dupe-factor 5 --threads 2 >"$out/$precision.log" 2>&1
  tail -n 1 "$out/run-$precision/metrics.jsonl"
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def losses(p):
    return [json.loads(l)["loss"] for l in open(f"{out}/run-{p}/metrics.jsonl") if l.strip()]
a, b = losses("fp32"), losses("bf16")
worst = 0.0
print(f"{'steps':>11s} {'fp32 loss':>10s} {'bf16 loss':>10s} {'rel diff':>9s}")
for start in range(0, min(len(a), len(b)) - 19, 20):
    ma, mb = sum(a[start:start + 20]) / 20, sum(b[start:start + 20]) / 20
    rel = abs(mb - ma) / abs(ma)
    worst = max(worst, rel)
    print(f"{start + 1:5d}-{start + 20:<5d} {ma:10.4f} {mb:10.4f} {100 * rel:8.2f}%")
ok = worst <= 0.02
print(f"largest window difference {100 * worst:.2f}% ({'within' if ok else 'OVER'} 2%)")
sys.exit(0 if ok else 1)
PY
