"""Runs spirv-val (Vulkan 1.1 rules) on every .spv file of a directory and
checks that the directory's program.json names one kernel per module
(kernel_N.spv, and kernel_N_subgroups.spv for each of its subgroup
kernels) and dispatches only those, each with a grid, and that every
kernel's workgroup memory fits in lavapipe's 32 KiB.

Usage: validate_spirv.py DIR. Prints "N modules valid, D dispatches" or
each failure.
"""
import json
import os
import subprocess
import sys


def main():
    folder = sys.argv[1]
    files = sorted(f for f in os.listdir(folder) if f.endswith(".spv"))
    failed = 0
    for name in files:
        result = subprocess.run(["spirv-val", "--target-env", "vulkan1.1",
                                 os.path.join(folder, name)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            failed += 1
            print(f"{name}: {result.stdout}{result.stderr}")
    if failed or not files:
        print(f"{failed} of {len(files)} modules invalid")
        return 1
    program = json.load(open(os.path.join(folder, "program.json")))
    kernels, dispatches = program["kernels"], program["dispatches"]
    expected = sorted([f"kernel_{k}.spv" for k in range(len(kernels))] +
                      [f"kernel_{k}_subgroups.spv" for k in program["subgroup_kernels"]])
    if expected != files:
        print(f"program.json names {len(kernels)} kernels and "
              f"{len(program['subgroup_kernels'])} subgroup kernels for {len(files)} modules")
        return 1
    for d in dispatches:
        if not 0 <= d["kernel"] < len(files) or len(d["grid"]) != 3 or min(d["grid"]) < 1:
            print(f"bad dispatch in program.json: {d}")
            return 1
    shared = program.get("workgroup_memory", [])
    if len(shared) != len(kernels) or max(shared) > 32768:
        print(f"workgroup memory per kernel missing or above 32768 bytes: {shared}")
        return 1
    print(f"{len(files)} modules valid, {len(dispatches)} dispatches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
