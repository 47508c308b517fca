#!/usr/bin/env bash
# Fused against unfused kernels: `bertc bench` compiles a BERT training step
# both ways and compares their first steps on the same parameters and batch;
# the losses and every gradient must agree within 1e-5 (relative, see
# README "Fusion and `bertc bench`"), the updated parameters and AdamW's
# moments within 1e-3 (AdamW divides by the root of the second moment, which
# magnifies the rounding of tiny gradients).
# Usage: check_fusion.sh BERTC PRESET TASK BATCH SEQ
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$("$1" bench "$here/../../models/bert.bertc" --preset "$2" --task "$3" --batch "$4" \
  --seq "$5" --target cpu --steps 1)"
echo "$out"
updated="$(echo "$out" | sed -n 's/.*updated parameters and optimizer state agree to \([^ ]*\) .*/\1/p')"
diff="$(echo "$out" | tail -n 1 | sed -n 's/^max_rel_diff=//p')"
/usr/bin/python3 - "$diff" "$updated" <<'PY'
import sys
diff, updated = float(sys.argv[1]), float(sys.argv[2])
print(f"losses and gradients: max relative difference {diff:.3g} (bound 1e-5)")
print(f"updated parameters and state: max relative difference {updated:.3g} (bound 1e-3)")
sys.exit(0 if diff < 1e-5 and updated < 1e-3 else 1)
PY
