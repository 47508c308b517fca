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
errors naming the file and the tensor.

With --train-classify, --pretrain and --data it also checks the other way:
the directories finetune and pretrain save are opened by the rules of
transformers' from_pretrained (config.json's architecture and sizes, the
exact parameter names that class has, the tied decoder, vocab.txt,
tokenizer_config.json, id2label), and the reference on the weights so
loaded gives the logits bertc gives. Exits 1 on any failure.
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
    ap.add_argument("--train-classify", help="the classify task's training step")
    ap.add_argument("--pretrain", help="the pretrain task's training step")
    ap.add_argument("--data", help="scripts/install-data.sh's folder (vocab.txt, tasks/)")
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
    checks = len(cases) + len(bad)
    if args.train_classify:
        exported = check_exports(args, programs, data, inputs)
        checks += len(exported)
        failures += sum(not ok for ok in exported)
    print(f"{checks - failures} of {checks} checks passed")
    return 1 if failures else 0


def expected_parameters(architecture, config):
    """The parameter names of a transformers BERT class, from its config."""
    names = [f"bert.embeddings.{e}" for e in (
        "word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight",
        "LayerNorm.weight", "LayerNorm.bias")]
    for i in range(config["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}"
        for m in ("attention.self.query", "attention.self.key", "attention.self.value",
                  "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
                  "output.dense", "output.LayerNorm"):
            names += [f"{p}.{m}.weight", f"{p}.{m}.bias"]
    names += ["bert.pooler.dense.weight", "bert.pooler.dense.bias"]
    if architecture == "BertForSequenceClassification":
        names += ["classifier.weight", "classifier.bias"]
    if architecture == "BertForPreTraining":
        names += ["cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                  "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias",
                  "cls.predictions.bias", "cls.seq_relationship.weight", "cls.seq_relationship.bias"]
    return names


def expected_shape(name, config):
    h, v = config["hidden_size"], config["vocab_size"]
    if name.endswith("word_embeddings.weight"):
        return [v, h]
    if name.endswith("position_embeddings.weight"):
        return [config["max_position_embeddings"], h]
    if name.endswith("token_type_embeddings.weight"):
        return [config["type_vocab_size"], h]
    if name == "cls.predictions.bias":
        return [v]
    if name.startswith("classifier."):
        return [config["num_labels"], h][:2 if name.endswith("weight") else 1]
    if name.startswith("cls.seq_relationship."):
        return [2, h][:2 if name.endswith("weight") else 1]
    if "intermediate.dense" in name:
        return [config["intermediate_size"], h][:2 if name.endswith("weight") else 1]
    if "output.dense" in name and "attention" not in name:
        return [h, config["intermediate_size"]] if name.endswith("weight") else [h]
    return [h, h] if name.endswith("weight") and "LayerNorm" not in name else [h]


def from_pretrained(directory):
    """A model directory opened as transformers does: the class named in
    config.json, model.safetensors with the load-time key fixes (gamma/beta),
    every parameter of that class present with the config's shape and no
    other (the tied MLM decoder comes from the word embeddings). Returns
    (architecture, config, weights, problems)."""
    config = json.load(open(os.path.join(directory, "config.json")))
    architecture = config["architectures"][0]
    problems = []
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
        problems.append(f"model_type/hidden_act: {config.get('model_type')}/{config.get('hidden_act')}")
    config.setdefault("num_labels", len(config.get("id2label", {})) or 2)
    state = read_safetensors(os.path.join(directory, "model.safetensors"))
    state = {k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias"): v
             for k, v in state.items()}
    want = expected_parameters(architecture, config)
    missing = sorted(set(want) - set(state))
    unexpected = sorted(set(state) - set(want))
    if missing or unexpected:
        problems.append(f"missing {missing}, unexpected {unexpected}")
    for name in want:
        if name in state and list(state[name].shape) != expected_shape(name, config):
            problems.append(f"{name}: shape {list(state[name].shape)}, the config says {expected_shape(name, config)}")
    vocab = open(os.path.join(directory, "vocab.txt"), encoding="utf-8").read().split("\n")[:-1]
    if len(vocab) != config["vocab_size"]:
        problems.append(f"vocab.txt has {len(vocab)} tokens, vocab_size is {config['vocab_size']}")
    tokenizer = json.load(open(os.path.join(directory, "tokenizer_config.json")))
    if tokenizer.get("do_lower_case") is not True:
        problems.append(f"tokenizer_config.json: do_lower_case {tokenizer.get('do_lower_case')}")
    return architecture, config, {k: v.astype(np.float64) for k, v in state.items()}, problems


def check_exports(args, programs, data, inputs):
    """finetune's and pretrain's directories opened by from_pretrained's rules."""
    results = []
    train = os.path.join(args.work, "sentences.csv")
    with open(train, "w") as f:  # 24 labelled sentences of the benchmark task.
        f.writelines(open(os.path.join(args.data, "tasks", "sentiment-sentences", "train.csv")).readlines()[:24])
    saved = os.path.join(args.work, "finetuned")
    code, log = run([args.train_classify, "finetune", "--train", train, "--text-column", "1",
                     "--label-column", "0", "--vocab", os.path.join(args.data, "vocab.txt"), "--save", saved,
                     "--epochs", "1", "--seed", "1", "--threads", "2"])
    corpus = os.path.join(HERE, "..", "lit", "runtime", "Inputs", "corpus")
    pretrained = os.path.join(args.work, "pretrained")
    code2, log2 = run([args.pretrain, "pretrain", "--corpus", corpus, "--vocab", os.path.join(args.data, "vocab.txt"),
                       "--save", pretrained, "--steps", "3", "--warmup", "1", "--lr", "1e-3", "--threads", "2"])
    for name, directory, task, code, log in (
            ("finetune's directory as BertForSequenceClassification", saved, "classify", code, log),
            ("pretrain's checkpoint as BertForPreTraining", os.path.join(pretrained, "checkpoint"), "infer",
             code2, log2)):
        if code:
            print(f"FAIL {name}: exit {code}\n{log}")
            results.append(False)
            continue
        architecture, config, w, problems = from_pretrained(directory)
        want = "BertForSequenceClassification" if task == "classify" else "BertForPreTraining"
        if architecture != want:
            problems.append(f"architectures {architecture}, expected {want}")
        if task == "classify" and config.get("id2label") != {"0": "-1", "1": "1"}:
            problems.append(f"id2label {config.get('id2label')}")
        if task == "classify" and config.get("label2id") != {"-1": 0, "1": 1}:
            problems.append(f"label2id {config.get('label2id')}")
        out = os.path.join(args.work, f"export-{task}.safetensors")
        code, log = run([programs[task], "infer", "--weights", directory, "--input", data[task],
                         "--output", out, "--threads", "2"])
        if code or problems:
            print(f"FAIL {name}: {problems} {log if code else ''}")
            results.append(False)
            continue
        got = read_safetensors(out)
        ref = reference(task, w, inputs[task], args.heads)
        worst = max(np.abs(got[k].astype(np.float64) - ref[k].numpy()).max() for k in ref)
        ok = worst <= args.tolerance
        print(f"{'ok  ' if ok else 'FAIL'} {name:70s} max abs diff {worst:.3e}")
        results.append(ok)
    return results


if __name__ == "__main__":
    sys.exit(main())
