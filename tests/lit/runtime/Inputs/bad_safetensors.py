#!/usr/bin/env python3
"""Writes a damaged variant of a safetensors file: bad_safetensors.py MODE IN OUT."""
import json
import struct
import sys

mode, src, dst = sys.argv[1:4]
data = open(src, "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
body = data[8 + n:]


def write(h, b=body, length=None):
    text = json.dumps(h).encode()
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text) if length is None else length) + text + b)


if mode == "truncated":
    open(dst, "wb").write(data[:5])
elif mode == "huge-header":
    write(header, length=1 << 40)
elif mode == "past-end":
    write(header, length=len(json.dumps(header)) + 10 ** 6)
elif mode == "not-json":
    text = b"{not json"
    open(dst, "wb").write(struct.pack("<Q", len(text)) + text + body)
elif mode == "offsets-out":
    header["emb.weight"]["data_offsets"][1] = len(body) + 4
    write(header)
elif mode == "overlap":
    a, b = header["emb.weight"]["data_offsets"]
    header["types.weight"]["data_offsets"] = [a, a + (header["types.weight"]["data_offsets"][1] - header["types.weight"]["data_offsets"][0])]
    write(header)
elif mode == "wrong-shape":
    header["emb.weight"]["shape"] = [40, 5]
    write(header)
elif mode == "wrong-dtype":
    header["emb.weight"]["dtype"] = "I32"
    write(header)
elif mode == "missing":
    del header["types.weight"]
    write(header)
else:
    sys.exit("unknown mode " + mode)
