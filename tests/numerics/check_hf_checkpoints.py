#!/usr/bin/env python3
"""Checkpoints as HuggingFace and Google publish them, loaded by bertc
programs, checked against the independent PyTorch reference.

    check_hf_checkpoints.py --infer PROGRAM --classify PROGRAM --work DIR \
        --heads 2 --batch 2 --seq 32 [--tolerance 1e-5]

PROGRAM are BERT programs compiled with --step=forward for the `infer` task
(BertForPreTraining's parameters) and the `classify` task
(BertForSequenceClassification's). From each program's own initial weights
this script writes files with every quirk of published checkpoints, alone
and together: Google's LayerNorm `gamma`/`beta`, a BertModel without the
`bert.` prefix or heads, PyTorch's `position_ids` buffer, the tied decoder
copies, F16/BF16/F64 weights, a model directory; then runs the program on
each (`--weights`, or `--init` for the BertModel) and compares every output
with bert_reference.py's float64 model on the values the file holds (max abs
diff printed, at most the tolerance), and checks the load report. Damaged
files (a tensor missing, a shape the model contradicts, I8 weights) must be
errors naming the file and the tensor. Exits 1 on any failure.
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bert_reference import bert, linear, mlm_logits, pad_batch  # noqa: E402

READ = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I32": np.int32, "I64": np.int64}


def read_safetensors(path):
    """name -> numpy array (BF16 widened to float32)."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        raw = data[8 + n + e["data_offsets"][0]:8 + n + e["data_offsets"][1]]
        if e["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(raw, dtype=READ[e["dtype"]])
        out[name] = a.reshape(e["shape"])
    return out


def bf16_bits(a):
    """float32 -> bf16 bits, rounded to nearest even (as torch.bfloat16)."""
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)


def write_safetensors(path, tensors):
    """tensors: name -> (dtype, numpy array)."""
    header, blobs, offset = {}, [], 0
    for name, (dtype, a) in tensors.items():
        if dtype == "BF16":
            raw = bf16_bits(a).tobytes()
        elif dtype == "I8":
            raw = np.ascontiguousarray(a, dtype=np.int8).tobytes()
        else:
            raw = np.ascontiguousarray(a, dtype=READ[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def stored_value(dtype, a):
    """What a file of this dtype holds for a, as float64 (the model's view)."""
    if dtype == "F16":
        return a.astype(np.float16).astype(np.float64)
    if dtype == "BF16":
        return (bf16_bits(a).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    if dtype == "F64":
        return a.astype(np.float64)
    return a.astype(np.float32).astype(np.float64)


def google_name(name):
    if "LayerNorm." in name:
        return name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
    return name


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def reference(task, w, inputs, heads):
    ids, types, mask, label = inputs
    t = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in w.items()}
    x, pooled = bert(t, ids, types, mask, heads)
    if task == "infer":
        return {"sequence_output": x, "pooled_output": pooled, "mlm_logits": mlm_logits(t, x)}
    logits = linear(t, "classifier", pooled)
    return {"logits": logits, "loss": torch.nn.functional.cross_entropy(logits, label)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--infer", required=True)
    ap.add_argument("--classify", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--tolerance", type=float, default=1e-5)
    args = ap.parse_args()
    programs = {"infer": args.infer, "classify": args.classify}
    os.makedirs(args.work, exist_ok=True)
    data = {"infer": os.path.join(HERE, "data", "infer.jsonl"),
            "classify": os.path.join(args.work, "classify.jsonl")}
    with open(data["classify"], "w") as f:  # The first batch of labelled rows.
        f.writelines(open(os.path.join(HERE, "data", "train_classify.jsonl")).readlines()[:args.batch])
    inputs, own = {}, {}
    for task, program in programs.items():
        ids, types, mask, *_ = pad_batch(data[task], args.batch, args.seq, 1)
        label = torch.tensor([json.loads(l).get("label", 0) for l in open(data[task]) if l.strip()])
        inputs[task] = (ids, types, mask, label)
        path = os.path.join(args.work, f"{task}-own.safetensors")
        code, out = run([program, "init", "--seed", "7", "--output", path])
        if code:
            sys.exit(out)
        own[task] = {k: v.astype(np.float32) for k, v in read_safetensors(path).items()}

    def layout(task, dtype="F32", google=False, base_model=False, buffers=False, copies=False):
        """(file tensors, the weights the model must see)."""
        w, tensors, seen = own[task], {}, {}
        for name, a in w.items():
            if base_model and not name.startswith("bert."):
                continue
            stored = name[len("bert."):] if base_model else name
            stored = google_name(stored) if google else stored
            tensors[stored] = (dtype, a)
            seen[name] = stored_value(dtype, a)
        if buffers:
            prefix = "" if base_model else "bert."
            tensors[prefix + "embeddings.position_ids"] = ("I64", np.arange(512, dtype=np.int64)[None])
        if copies:
            tensors["cls.predictions.decoder.weight"] = (dtype, w["bert.embeddings.word_embeddings.weight"])
            tensors["cls.predictions.decoder.bias"] = (dtype, w["cls.predictions.bias"])
        return tensors, seen

    # (case, task, layout arguments, a directory?, --init?, report lines expected)
    cases = [
        ("own names", "infer", {}, False, False, []),
        ("Google gamma/beta + position_ids", "infer", {"google": True, "buffers": True}, False, False,
         ["renamed 12: ", "bert.embeddings.LayerNorm.gamma -> bert.embeddings.LayerNorm.weight",
          "ignored 1: bert.embeddings.position_ids (an index buffer)"]),
        ("F16", "infer", {"dtype": "F16"}, False, False, ["converted 44 from F16 to F32"]),
        ("BertForPreTraining directory with decoder copies", "infer", {"copies": True}, True, False,
         ["cls.predictions.decoder.weight (equal to the tied bert.embeddings.word_embeddings.weight)",
          "cls.predictions.decoder.bias (equal to the tied cls.predictions.bias)"]),
        ("BertModel (no prefix, no heads), --init", "infer", {"base_model": True, "google": True}, True, True,
         ["loaded 39 parameters", "renamed 39: embeddings.LayerNorm.beta -> bert.embeddings.LayerNorm.bias",
          "initialised 5: cls.predictions.transform.dense.weight"]),
        ("everything at once: Google names, F16, buffers, copies, directory", "infer",
         {"google": True, "dtype": "F16", "buffers": True, "copies": True}, True, False,
         ["converted 44 from F16 to F32", "renamed 12: ", "ignored 3: "]),
        ("BertForSequenceClassification, BF16", "classify", {"dtype": "BF16"}, False, False,
         ["converted 41 from BF16 to F32"]),
        ("BertForSequenceClassification, F64, Google names", "classify", {"dtype": "F64", "google": True},
         True, False, ["converted 41 from F64 to F32", "renamed 10: "]),
    ]
    failures = 0
    for i, (case, task, how, directory, init, expected) in enumerate(cases):
        tensors, seen = layout(task, **how)
        path = os.path.join(args.work, f"case{i}")
        file = os.path.join(path, "model.safetensors") if directory else path + ".safetensors"
        write_safetensors(file, tensors)
        out = os.path.join(args.work, f"case{i}-outputs.safetensors")
        flag = ["--init", path if directory else file, "--seed", "7"] if init else \
            ["--weights", path if directory else file]
        code, log = run([programs[task], "infer", *flag, "--input", data[task], "--output", out, "--threads", "2"])
        if code:
            print(f"FAIL {case}: exit {code}\n{log}")
            failures += 1
            continue
        missing = [e for e in expected if e not in log]
        if init:  # The heads come from --seed 7: the program's own initial values.
            seen.update({k: stored_value("F32", v) for k, v in own[task].items() if k not in seen})
        got = read_safetensors(out)
        ref = reference(task, seen, inputs[task], args.heads)
        worst = max((np.abs(got[k].astype(np.float64) - ref[k].numpy()).max() for k in ref))
        ok = worst <= args.tolerance and not missing and set(got) == set(ref)
        print(f"{'ok  ' if ok else 'FAIL'} {case:70s} max abs diff {worst:.3e}")
        for m in missing:
            print(f"     report lacks '{m}':\n{log}")
        failures += not ok

    # Damaged files: an error naming the file and the tensor, no outputs.
    tensors, _ = layout("infer")
    bad = [
        ("a tensor missing", {k: v for k, v in tensors.items() if k != "bert.pooler.dense.weight"},
         "tensor 'bert.pooler.dense.weight' is missing"),
        ("a shape the model contradicts",
         {**tensors, "bert.embeddings.word_embeddings.weight": ("F32", np.zeros((30522, 64), np.float32))},
         "tensor 'bert.embeddings.word_embeddings.weight' has shape [30522, 64], the model needs [30522, 128]"),
        ("I8 weights", {**tensors, "bert.pooler.dense.bias": ("I8", np.zeros(128, np.int8))},
         "tensor 'bert.pooler.dense.bias': unsupported dtype I8"),
    ]
    for i, (case, t, message) in enumerate(bad):
        file = os.path.join(args.work, f"bad{i}.safetensors")
        write_safetensors(file, t)
        code, log = run([args.infer, "infer", "--weights", file, "--input", data["infer"],
                         "--output", os.path.join(args.work, "bad.safetensors")])
        ok = code != 0 and f"{file}: {message}" in log
        print(f"{'ok  ' if ok else 'FAIL'} {case:70s} {log.strip().splitlines()[-1] if log.strip() else ''}")
        failures += not ok
    print(f"{len(cases) + len(bad) - failures} of {len(cases) + len(bad)} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
