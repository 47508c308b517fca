#!/usr/bin/env python3
"""The Vulkan executor's choices side by side: one training binary run with
each choice in turn (alternating, ROUNDS rounds), its kernels timed with GPU
timestamps (`--profile 1`).

    vulkan_choices.py BINARY WEIGHTS DATA [--rounds 3] [--steps 3]
        [--choice NAME=FLAGS ...]

BINARY is a `bertc compile --target vulkan` training program, WEIGHTS its
parameters (`BINARY init`), DATA a pretraining or fine-tuning JSONL file.
The default choices: the executor's own, `--no-subgroups`, and each
workgroup size the binary carries (`--workgroup-size N`). Prints, per
choice, the median over rounds of the fastest step, and the time per kernel
kind summed over the steps.
"""
import argparse
import collections
import json
import re
import statistics
import subprocess


def workgroup_sizes(binary):
    info = subprocess.run([binary, "info"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"workgroups of ([\d, ]+) invocations", info)
    return [int(n) for n in found.group(1).split(",")] if found else []


def run(binary, weights, data, steps, flags):
    cmd = [binary, "train-step", "--device", "vulkan", "--weights", weights, "--data", data,
           "--steps", str(steps), "--profile", "1"] + flags
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    lines = (done.stdout + done.stderr).splitlines()
    step = min(json.loads(line)["ms"] for line in lines if line.startswith("{"))
    kinds = collections.defaultdict(float)
    for line in lines:
        kernel = re.match(r"\s+kernel_\d+\s+(\S+)\s+([\d.]+) ms", line)
        if kernel:
            kinds[kernel.group(1)] += float(kernel.group(2))
    return step, kinds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("weights")
    p.add_argument("data")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--choice", action="append", default=[],
                   help="NAME=FLAGS, e.g. 'no-subgroups=--no-subgroups'")
    args = p.parse_args()
    choices = [c.split("=", 1) for c in args.choice]
    if not choices:
        choices = [["executor's choice", ""], ["--no-subgroups", "--no-subgroups"]]
        choices += [[f"--workgroup-size {n}", f"--workgroup-size {n}"]
                    for n in workgroup_sizes(args.binary)]
    steps = collections.defaultdict(list)
    kinds = collections.defaultdict(lambda: collections.defaultdict(list))
    for _ in range(args.rounds):
        for name, flags in choices:
            step, by_kind = run(args.binary, args.weights, args.data, args.steps, flags.split())
            steps[name].append(step)
            for kind, ms in by_kind.items():
                kinds[name][kind].append(ms)
    all_kinds = sorted({k for name, _ in choices for k in kinds[name]})
    width = max(len(name) for name, _ in choices) + 2
    print(f"{'':{width}}{'step ms':>10}" + "".join(f"{k:>13}" for k in all_kinds))
    for name, _ in choices:
        row = f"{name:{width}}{statistics.median(steps[name]):10.1f}"
        row += "".join(f"{statistics.median(kinds[name][k]) if kinds[name][k] else 0:13.1f}"
                       for k in all_kinds)
        print(row)
    print(f"(fastest of {args.steps} steps, then kernel ms by kind over the {args.steps} steps; "
          f"medians of {args.rounds} alternating rounds)")


if __name__ == "__main__":
    main()
