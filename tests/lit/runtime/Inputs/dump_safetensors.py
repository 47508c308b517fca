#!/usr/bin/env python3
"""Prints each tensor of a safetensors file: name, dtype, shape, and how many
rows (vectors along the last axis) are not all zero."""
import json
import struct
import sys

import numpy as np

data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
for name, e in header.items():
    if name == "__metadata__":
        continue
    b, end = e["data_offsets"]
    a = np.frombuffer(data[8 + n + b:8 + n + end], dtype={"F32": np.float32, "I32": np.int32, "F64": np.float64}[e["dtype"]])
    a = a.reshape(e["shape"])
    print(name, e["dtype"], e["shape"])
    print("nonzero rows:", int((a.reshape(-1, a.shape[-1]) != 0).any(axis=1).sum()))
