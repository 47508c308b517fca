#!/usr/bin/env bash
# Gradient accumulation against one large batch: BERT's training step for a
# task compiled at batch 16, and at batch 8 with --accumulate-gradients;
# from the same weights and 32 fixed rows (dropout off), ten steps of batch
# 16 against ten steps of two micro-batches of 8 (`train-step --accumulate
# 2`), then of one micro-batch of 8 per step, which must differ (else the
# comparison could not fail). The losses of every
# step must agree within 1e-5 relative and the parameters after (relative to
# each tensor's largest entry; the attention key biases, moved by rounding
# noise alone, left out) within TOLERANCE (default 1e-4); prints both.
# Usage: check_accumulate.sh BERTC PRESET TASK
set -euo pipefail
bertc="$1" preset="$2" task="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
/usr/bin/python3 - "$task" > "$work/data.jsonl" <<'PY'
import json, random, sys
task = sys.argv[1]
rng = random.Random(7)
for _ in range(32):
    n = rng.randint(8, 32)
    ids = [101] + [rng.randint(1000, 30000) for _ in range(n - 2)] + [102]
    split = rng.randint(2, n - 2)
    row = {"input_ids": ids, "token_type_ids": [0] * split + [1] * (n - split)}
    if task == "pretrain":
        # At most 4 predictions (the program's 15% of 32 is 5).
        masked = set(rng.sample(range(1, n - 1), rng.randint(1, 4)))
        row["labels"] = [rng.randint(1000, 30000) if i in masked else -100 for i in range(n)]
        row["next_sentence_label"] = rng.randint(0, 1)
    else:
        row["label"] = rng.randint(0, 1)
    print(json.dumps(row))
PY
"$bertc" compile "$root/models/bert.bertc" --preset "$preset" --task "$task" --batch 16 --seq 32 \
  --target cpu -o "$work/whole"
"$bertc" compile "$root/models/bert.bertc" --preset "$preset" --task "$task" --batch 8 --seq 32 \
  --target cpu --accumulate-gradients -o "$work/parts"
"$work/whole" init --seed 5 --output "$work/init.safetensors"
run() { # PROGRAM OUT [ARGS...]
  local program="$1" out="$2"
  shift 2
  "$work/$program" train-step --weights "$work/init.safetensors" --data "$work/data.jsonl" \
    --steps 10 --lr 1e-3 --dropout 0 --threads 2 --save "$work/$out.safetensors" "$@" \
    > "$work/$out.jsonl"
}
run whole whole
run parts parts --accumulate 2
run parts single
/usr/bin/python3 - "$work" "${TOLERANCE:-1e-4}" "$here" <<'PY'
import json, sys
work, tol, here = sys.argv[1], float(sys.argv[2]), sys.argv[3]
sys.path.insert(0, here)
from bert_reference import read_safetensors
def steps(name):
    return [json.loads(l) for l in open(f"{work}/{name}.jsonl") if l.strip()]
whole, parts, single = steps("whole"), steps("parts"), steps("single")
worst_loss = 0.0
for a, b, c in zip(whole, parts, single):
    rel = abs(a["loss"] - b["loss"]) / abs(a["loss"])
    worst_loss = max(worst_loss, rel)
    print(f"step {a['step']:2d}  batch 16 {a['loss']:.7f}  2 x 8 {b['loss']:.7f}  rel diff {rel:.2e}"
          f"   (1 x 8: {c['loss']:.7f})")
def weight_diff(x, y):
    wx, wy = read_safetensors(f"{work}/{x}.safetensors"), read_safetensors(f"{work}/{y}.safetensors")
    worst, where = 0.0, ""
    for name, t in wx.items():
        # The parameters; not the attention key biases, whose gradient is 0
        # in exact arithmetic (softmax ignores a shift shared by a row), so
        # that AdamW moves them by its normalised rounding noise alone.
        if name.startswith("optimizer.") or name.endswith("attention.self.key.bias"):
            continue
        scale = max(t.abs().max().item(), 1e-12)
        d = (t - wy[name]).abs().max().item() / scale
        if d > worst:
            worst, where = d, name
    return worst, where
w, where = weight_diff("whole", "parts")
s, _ = weight_diff("whole", "single")
print(f"weights after 10 steps, 2 x 8 vs 16: max rel diff {w:.2e} ({where}); 1 x 8 vs 16: {s:.2e}")
# The comparison must tell a different step apart: one batch of 8 per step.
sensitive = s > 100 * tol
ok = worst_loss <= 1e-5 and w <= tol and sensitive
if not sensitive:
    print(f"1 x 8 vs 16 differ by only {s:.2e}: the comparison cannot tell the steps apart")
print(f"losses within {worst_loss:.2e} (limit 1e-5), weights within {w:.2e} (limit {tol:g}): "
      f"{'ok' if ok else 'OVER'}")
sys.exit(0 if ok else 1)
PY
