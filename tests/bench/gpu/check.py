#!/usr/bin/env python3
"""The Vulkan programs that tests/bench/gpu/prepare.sh built, on the device
at hand; run.sh (beside this file, in the prepared folder) runs it.

1. The Vulkan devices (`--list-devices`). Where the loader finds none and
   the NVIDIA driver's ICD file is there, it is named to the loader
   (VK_DRIVER_FILES) and the devices listed again.
2. BERT-tiny's forward outputs, first-step gradients and COMPARE_STEPS
   training losses on the device against the same machine's CPU, within
   1e-4 (numerics/vulkan_vs_cpu.sh; VALIDATION=1 adds the Khronos layer).
3. Per preset, the pretraining step at the prepared batch and sequence
   length, timed on the device for each workgroup size the program carries,
   with subgroup reductions and without (--no-subgroups), and on the CPU;
   then PyTorch's step at the same shapes (torch_train_bench.py: CUDA where
   PyTorch sees a GPU, else the CPU; fp32 and bf16 autocast). ROUNDS rounds,
   interleaved; a run's figure is the median of its STEPS steps after the
   first, a choice's the median over the rounds.
4. The slowest kernels of the executor's own choice (`--profile 1`).

Writes OUT/gpu-check.json (everything), OUT/gpu-check.txt (the table, also
printed), OUT/devices.txt and OUT/compare.txt. Exits 1 when there is no
Vulkan device, the comparison fails or a run fails. A run not started
because BUDGET seconds have passed is listed as skipped, not failed, so that
a machine lent for minutes still gets the table (the presets run in order,
each whole before the next).

    check.py --out DIR   (STEPS 10, COMPARE_STEPS 3, ROUNDS 2, DEVICE,
                          RUN_TIMEOUT 180 seconds a run, BUDGET 420 seconds
                          before the last runs are skipped, BENCH_THREADS)
"""
import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NVIDIA_ICD = "/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json"
TIMEOUT = int(os.environ.get("RUN_TIMEOUT", "180"))
BUDGET = float(os.environ.get("BUDGET", "420"))
START = time.monotonic()


def out_of_time():
    return time.monotonic() - START > BUDGET


def run(cmd, env=None):
    """(exit status, stdout + stderr); 124 when it ran past TIMEOUT."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                              env=env, cwd=HERE)
        return done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout or b""
        return 124, (out.decode() if isinstance(out, bytes) else out) + "\n(timed out)"


def settings():
    values = {}
    for line in open(os.path.join(HERE, "settings")):
        key, _, value = line.strip().partition("=")
        values[key] = value.strip('"')
    return values["presets"].split(), int(values["batch"]), int(values["seq"])


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    rc, gpus = (run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"])
                if shutil.which("nvidia-smi") else (1, ""))
    return {"cpu": cpu, "cores": os.cpu_count(), "gpus": gpus.strip() if rc == 0 else ""}


def vulkan_devices(binary):
    """The `--list-devices` lines 'vulkan:N  NAME  TYPE  ...' as dicts."""
    rc, out = run([binary, "--list-devices"])
    devices = []
    for line in out.splitlines():
        if re.match(r"vulkan:\d+\s", line):
            fields = re.split(r"\s{2,}", line.strip())
            devices.append({"id": fields[0], "name": fields[1], "type": fields[2], "line": line})
    return devices, out


def steps_ms(output):
    """The "ms" of each step line a train-step printed."""
    return [json.loads(l)["ms"] for l in output.splitlines() if l.startswith("{\"step\"")]


def profile(output):
    """(device description, [{kernel, kind, ms, calls}]) from --profile 1."""
    head = re.search(r"^profile on (.*): each kernel's time", output, re.M)
    kernels = [{"kernel": m[0], "kind": m[1], "ms": float(m[2]), "calls": int(m[3])}
               for m in re.findall(r"^\s+(kernel_\d+)\s+(\S+)\s+([\d.]+) ms\s+(\d+) calls",
                                   output, re.M)]
    return (head.group(1) if head else "?"), kernels


def workgroup_sizes(binary):
    rc, info = run([binary, "info"])
    found = re.search(r"workgroups of ([\d, ]+) invocations", info)
    return [int(n) for n in found.group(1).split(",")] if found else []


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    steps = int(os.environ.get("STEPS", "10"))
    compare_steps = os.environ.get("COMPARE_STEPS", "3")
    rounds = int(os.environ.get("ROUNDS", "2"))
    presets, batch, seq = settings()
    tokens = batch * seq
    failures, skipped = [], []
    result = {"machine": machine(), "batch": batch, "seq": seq, "steps": steps,
              "rounds": rounds}

    binary = os.path.join(HERE, f"pretrain-{presets[0]}")
    devices, listing = vulkan_devices(binary)
    if not devices and os.path.exists(NVIDIA_ICD) and "VK_DRIVER_FILES" not in os.environ:
        os.environ["VK_DRIVER_FILES"] = NVIDIA_ICD
        result["vk_driver_files"] = NVIDIA_ICD
        devices, listing = vulkan_devices(binary)
    open(os.path.join(args.out, "devices.txt"), "w").write(listing)
    print(listing.rstrip())
    result["devices"] = [d["line"] for d in devices]
    chosen = os.environ.get("DEVICE") or next(
        (d["id"] for d in devices if d["type"] != "cpu"), devices[0]["id"] if devices else None)
    result["device"] = next((d["line"] for d in devices if d["id"] == chosen), chosen)
    if chosen is None:
        failures.append("no Vulkan device (see devices.txt)")

    if chosen:
        env = dict(os.environ, VALIDATION=os.environ.get("VALIDATION", "0"))
        rc, out = run(["bash", "numerics/vulkan_vs_cpu.sh", "numerics/infer-tiny",
                       "numerics/train-tiny", compare_steps, "numerics/data", chosen], env)
        open(os.path.join(args.out, "compare.txt"), "w").write(out)
        worst = re.search(r"max_rel_diff=(\S+)", out)
        result["compare"] = {"passed": rc == 0, "max_rel_diff": float(worst.group(1))
                             if worst else None, "steps": int(compare_steps)}
        print(f"\ncomparison against the CPU: {'passed' if rc == 0 else 'FAILED'}, "
              f"{worst.group(0) if worst else out[-2000:]}")
        if rc != 0:
            failures.append("the comparison against the CPU (compare.txt)")

    import torch  # noqa: E402  (after the Vulkan runs: PyTorch's start is slow)
    torch_device = "cuda" if torch.cuda.is_available() else "cpu"
    threads = os.environ.get("BENCH_THREADS", str(os.cpu_count()))
    result["torch"] = {"version": torch.__version__, "device": torch_device,
                       "gpu": torch.cuda.get_device_name(0) if torch_device == "cuda" else ""}
    result["presets"] = {}
    for preset in presets:
        binary = os.path.join(HERE, f"pretrain-{preset}")
        base = [binary, "train-step", "--data", "batch.jsonl", "--seed", "1",
                "--steps", str(steps)]
        choices = [("cpu", ["--device", "cpu"])]
        if chosen:
            for size in workgroup_sizes(binary):
                for subgroups in (True, False):
                    name = f"vulkan, {size} invocations, " + (
                        "subgroup reductions" if subgroups else "workgroup memory only")
                    choices.append((name, ["--device", chosen, "--workgroup-size", str(size)]
                                    + ([] if subgroups else ["--no-subgroups"])))
        runs = {name: [] for name, _ in choices}
        runs["PyTorch fp32"], runs["PyTorch bf16 autocast"] = [], []
        for round_ in range(1, rounds + 1):
            for name, flags in choices:
                if out_of_time():
                    skipped.append(f"{preset}: {name}, round {round_}")
                    continue
                rc, out = run(base + flags)
                ms = steps_ms(out)
                if rc != 0 or not ms:
                    failures.append(f"{preset}: {name}: {shlex.join(base + flags)} "
                                    f"(exit {rc}): {out[-1000:]}")
                    continue
                runs[name].append(statistics.median(ms[1:] or ms))
            if out_of_time():
                skipped.append(f"{preset}: PyTorch, round {round_}")
                continue
            rc, out = run([os.environ["PYTHON"], "torch_train_bench.py", "pretrain",
                           "pretrain_bf16", "--preset", preset, "--batch", str(batch),
                           "--seq", str(seq), "--device", torch_device, "--steps", str(steps)],
                          dict(os.environ, BENCH_THREADS=threads))
            if rc != 0:
                failures.append(f"{preset}: PyTorch (exit {rc}): {out[-1000:]}")
                continue
            figures = json.loads(out.strip().splitlines()[-1])
            runs["PyTorch fp32"].append(1e3 * tokens / figures["pretrain"]["tokens/s"])
            runs["PyTorch bf16 autocast"].append(
                1e3 * tokens / figures["pretrain_bf16"]["tokens/s"])
        table = {name: {"ms": statistics.median(ms), "tokens/s": 1e3 * tokens / statistics.median(ms),
                        "rounds_ms": ms} for name, ms in runs.items() if ms}
        entry = {"steps": table}
        if chosen and out_of_time():
            skipped.append(f"{preset}: --profile 1")
        elif chosen:
            rc, out = run(base[:-1] + ["3", "--device", chosen, "--profile", "1"])
            described, kernels = profile(out)
            total = sum(k["ms"] for k in kernels) or 1.0
            by_kind = {}
            for k in kernels:
                by_kind[k["kind"]] = by_kind.get(k["kind"], 0.0) + k["ms"]
            entry["profile"] = {"device": described, "steps": 3, "total_ms": total,
                                "by_kind_ms": by_kind,
                                "slowest": sorted(kernels, key=lambda k: -k["ms"])[:10]}
            if rc != 0 or not kernels:
                failures.append(f"{preset}: --profile 1 (exit {rc}): {out[-1000:]}")
        result["presets"][preset] = entry

    lines = [f"CPU: {result['machine']['cpu']} ({result['machine']['cores']} cores)",
             f"GPU: {result['machine']['gpus'] or 'none seen by nvidia-smi'}",
             f"Vulkan device: {result['device']}",
             f"PyTorch {result['torch']['version']} on {torch_device}"
             + (f" ({result['torch']['gpu']})" if result["torch"]["gpu"] else
                f" ({threads} threads)")]
    if "compare" in result:
        c = result["compare"]
        lines.append(f"BERT-tiny on the device against the CPU (forward, gradients, "
                     f"{c['steps']} steps): {'passed' if c['passed'] else 'FAILED'}, "
                     f"max rel diff {c['max_rel_diff']}")
    for preset, entry in result["presets"].items():
        lines += ["", f"BERT-{preset} pretraining step, batch {batch} x seq {seq} "
                  f"(median over up to {rounds} interleaved rounds, each the median of "
                  f"{steps - 1} steps after the first):",
                  f"  {'':52}{'ms':>10}{'tokens/s':>12}"]
        for name, row in entry["steps"].items():
            shown = ("bertc " + name) if not name.startswith("PyTorch") else name
            lines.append(f"  {shown:52}{row['ms']:10.2f}{row['tokens/s']:12.0f}")
        vulkan = [r for n, r in entry["steps"].items() if n.startswith("vulkan")]
        if vulkan:
            best = max(r["tokens/s"] for r in vulkan)
            for name in ("PyTorch fp32", "PyTorch bf16 autocast"):
                if name in entry["steps"]:
                    ratio = best / entry["steps"][name]["tokens/s"]
                    entry.setdefault("ratios", {})[name] = ratio
                    lines.append(f"  fastest bertc Vulkan / {name} on {torch_device}: "
                                 f"{ratio:.3f}x")
        if "profile" in entry:
            prof = entry["profile"]
            lines.append(f"  slowest kernels on {prof['device']} (3 steps, "
                         f"{prof['total_ms']:.1f} ms in kernels):")
            for k in prof["slowest"]:
                lines.append(f"    {k['kernel']:12}{k['kind']:14}{k['ms']:10.2f} ms"
                             f"{k['calls']:6} calls {100 * k['ms'] / prof['total_ms']:5.1f}%")
            lines.append("    by kind: " + ", ".join(
                f"{kind} {ms:.1f} ms" for kind, ms in
                sorted(prof["by_kind_ms"].items(), key=lambda kv: -kv[1])))
    result["failures"], result["skipped"] = failures, skipped
    if skipped:
        lines += ["", f"skipped, past the budget of {BUDGET:g} s (BUDGET):"] + [
            f"  {s}" for s in skipped]
    if failures:
        lines += ["", "FAILED:"] + [f"  {f}" for f in failures]
    text = "\n".join(lines) + "\n"
    print("\n" + text, end="")
    open(os.path.join(args.out, "gpu-check.txt"), "w").write(text)
    with open(os.path.join(args.out, "gpu-check.json"), "w") as f:
        json.dump(result, f, indent=1)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
