#!/usr/bin/env bash
# The GPU check run here, as CI can: prepare.sh on small shapes (BERT-tiny,
# batch 2, seq 16), then run.sh against the first Vulkan device (lavapipe in
# CI) and PyTorch on the CPU. Every part must run and report: the device,
# the comparison against the CPU (passed, within 1e-4), each workgroup size
# with and without subgroup reductions, the CPU, PyTorch fp32 and bf16, the
# ratios and the slowest kernels of the executor's choice.
# Usage: check_lavapipe.sh BERTC
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
BERTC="$1" PRESETS=tiny BATCH=2 SEQ=16 "$here/prepare.sh" "$work/gpu-check"
STEPS=2 ROUNDS=1 COMPARE_STEPS=1 BENCH_THREADS=1 OUT="$work/out" PYTHON=/usr/bin/python3 \
  "$work/gpu-check/run.sh"
/usr/bin/python3 - "$work/out" <<'PY'
import json, os, sys
out = sys.argv[1]
r = json.load(open(os.path.join(out, "gpu-check.json")))
def need(ok, what):
    if not ok:
        sys.exit(f"check_lavapipe.sh: {what}")
need(r["devices"] and r["device"].startswith("vulkan:0"), "no Vulkan device chosen")
need(r["compare"]["passed"] and r["compare"]["max_rel_diff"] <= 1e-4, "the comparison failed")
steps = r["presets"]["tiny"]["steps"]
expected = ["cpu", "PyTorch fp32", "PyTorch bf16 autocast"] + [
    f"vulkan, {n} invocations, {how}" for n in (64, 256)
    for how in ("subgroup reductions", "workgroup memory only")]
for name in expected:
    need(name in steps and steps[name]["tokens/s"] > 0, f"no timing for {name}")
need(set(r["presets"]["tiny"]["ratios"]) == {"PyTorch fp32", "PyTorch bf16 autocast"},
     "no ratios")
profile = r["presets"]["tiny"]["profile"]
need(profile["device"].endswith("64 invocations per workgroup, subgroup reductions"),
     f"the profile ran on {profile['device']}, not lavapipe's choice")
need(len(profile["slowest"]) == 10 and profile["total_ms"] > 0, "no slowest kernels")
need(not r["failures"], f"failures: {r['failures']}")
need(not r["skipped"], f"skipped past the time budget: {r['skipped']}")
need("fastest bertc Vulkan / PyTorch fp32" in open(os.path.join(out, "gpu-check.txt")).read(),
     "no table")
print(f"check_lavapipe.sh: every part ran; the comparison's max rel diff "
      f"{r['compare']['max_rel_diff']:.3e}")
PY
