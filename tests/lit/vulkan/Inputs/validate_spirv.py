"""Runs spirv-val (Vulkan 1.1 rules) on every .spv file of a directory.

Usage: validate_spirv.py DIR. Prints "N modules valid" or each failure.
"""
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
    print(f"{len(files)} modules valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
