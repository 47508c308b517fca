#!/usr/bin/env python3
"""Compares what a program computed on the CPU and on a Vulkan device.

    compare_devices.py --tolerance 1e-4 \\
        --tensors cpu.safetensors vulkan.safetensors [--tensors ...] \\
        --steps cpu_steps.jsonl vulkan_steps.jsonl [--steps ...]

Tensors (forward outputs, gradients) must agree within the tolerance,
relative to max(1, |cpu value|); so must every scalar of every step line
(the loss trajectory). Prints the max difference of each and exits non-zero
when one is over.
"""
import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import read_safetensors  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tolerance", type=float, default=1e-4)
    p.add_argument("--tensors", nargs=2, action="append", default=[])
    p.add_argument("--steps", nargs=2, action="append", default=[])
    args = p.parse_args()
    worst = 0.0
    for cpu_path, vulkan_path in args.tensors:
        cpu, vulkan = read_safetensors(cpu_path), read_safetensors(vulkan_path)
        if sorted(cpu) != sorted(vulkan):
            sys.exit(f"{cpu_path} and {vulkan_path} hold different tensors")
        for name in sorted(cpu):
            a, b = cpu[name].double(), vulkan[name].double()
            diff = ((a - b).abs() / a.abs().clamp(min=1.0)).max().item() if a.numel() else 0.0
            if not math.isfinite(diff):
                diff = math.inf
            worst = max(worst, diff)
            print(f"{name:60s} {tuple(a.shape)!s:18s} max rel diff {diff:.3e}")
    for cpu_path, vulkan_path in args.steps:
        cpu = [json.loads(line) for line in open(cpu_path)]
        vulkan = [json.loads(line) for line in open(vulkan_path)]
        if len(cpu) != len(vulkan) or not cpu:
            sys.exit("the step logs differ in length")
        for c, v in zip(cpu, vulkan):
            for key, value in c.items():
                if key in ("step", "ms"):
                    continue
                diff = abs(float(value) - float(v[key])) / max(1.0, abs(float(value)))
                if not math.isfinite(diff):
                    diff = math.inf
                worst = max(worst, diff)
            print(f"step {c['step']}: " + ", ".join(
                f"{k} {c[k]} / {v[k]}" for k in c if k not in ("step", "ms")))
    print(f"max_rel_diff={worst:.3e} (bound {args.tolerance:g})")
    sys.exit(0 if worst <= args.tolerance else 1)


if __name__ == "__main__":
    main()
