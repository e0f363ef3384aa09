#!/usr/bin/python3
"""Reads a fer model file (docs/model-format.md) with numpy alone.

    /usr/bin/python3 scripts/read_model.py runs/dcnn/best.bin

prints what the file holds; `from read_model import read_model` gives a dict:
kind, version, arch (text), layers (parsed), class_names, mean and std
(h x w float32), weights {"conv2d_1/kernel": array (kh, kw, in, out), ...},
meta, and for checkpoints adam and train.
"""
import re
import struct
import sys
import zlib

import numpy as np

MAGIC = b"\x89FER\r\n\x1a\n"
KERAS_NAMES = {"conv": "conv2d", "maxpool": "max_pooling2d", "dropout": "dropout",
               "flatten": "flatten", "dense": "dense"}


def parse_arch(text):
    """The description grammar of nn/model.h -> input shape and layer list
    with Keras-style names and parameter shapes (kernel then bias)."""
    tokens = re.findall(r"(\w+)(?:\(([^)]*)\))?", text)
    (name, args), rest = tokens[0], tokens[1:]
    assert name == "input", "the description starts with input(H,W,C)"
    h, w, c = (int(a) for a in args.split(","))
    counts, layers, shape = {}, [], [h, w, c]
    for kind, args in rest:
        a = [s.strip() for s in args.split(",")] if args else []
        counts[kind] = counts.get(kind, 0) + 1
        layer = {"kind": kind, "name": f"{KERAS_NAMES[kind]}_{counts[kind]}", "params": []}
        if kind == "conv":
            f = int(a[0])
            kh, kw = (int(x) for x in a[1].split("x")) if "x" in a[1] else (int(a[1]),) * 2
            layer.update(filters=f, kernel=(kh, kw), padding="same" if "same" in a else "valid",
                         activation="relu" if "relu" in a else "linear")
            layer["params"] = [("kernel", (kh, kw, shape[2], f)), ("bias", (f,))]
            if layer["padding"] == "valid":
                shape = [shape[0] - kh + 1, shape[1] - kw + 1, f]
            else:
                shape = [shape[0], shape[1], f]
        elif kind == "maxpool":
            shape = [shape[0] // 2, shape[1] // 2, shape[2]]
        elif kind == "dropout":
            layer["rate"] = float(a[0])
        elif kind == "flatten":
            shape = [shape[0] * shape[1] * shape[2]]
        elif kind == "dense":
            units = int(a[0])
            layer.update(units=units, activation="relu" if "relu" in a else "linear")
            layer["params"] = [("kernel", (shape[0], units)), ("bias", (units,))]
            shape = [units]
        layers.append(layer)
    return (h, w, c), layers


def read_model(path):
    data = open(path, "rb").read()
    if len(data) < 28 or data[:8] != MAGIC:
        raise ValueError(f"{path}: not a fer model file")
    stored, = struct.unpack("<I", data[-4:])
    if zlib.crc32(data[:-4]) != stored:
        raise ValueError(f"{path}: CRC-32 mismatch (truncated or corrupted)")
    version, kind, n_sections, _reserved = struct.unpack_from("<4I", data, 8)
    pos, sec = 24, {}
    for _ in range(n_sections):
        tag, _, length = struct.unpack_from("<4sIQ", data, pos)
        sec[tag.decode("ascii")] = data[pos + 16:pos + 16 + length]
        pos += 16 + length
    assert pos == len(data) - 4, "sections must end at the CRC"
    m = {"version": version, "kind": {1: "model", 2: "checkpoint"}[kind]}
    m["arch"] = sec["ARCH"].decode("ascii")
    m["input"], m["layers"] = parse_arch(m["arch"])

    clas, names, p = sec["CLAS"], [], 4
    for _ in range(struct.unpack_from("<I", clas)[0]):
        n, = struct.unpack_from("<I", clas, p)
        names.append(clas[p + 4:p + 4 + n].decode("utf-8"))
        p += 4 + n
    m["class_names"] = names

    h, w = struct.unpack_from("<2I", sec["NORM"])
    stats = np.frombuffer(sec["NORM"], "<f4", 2 * h * w, 8).reshape(2, h, w)
    m["mean"], m["std"] = stats[0], stats[1]

    n_params, = struct.unpack_from("<Q", sec["WGHT"])
    flat = np.frombuffer(sec["WGHT"], "<f4", n_params, 8)
    m["weights"], off = {}, 0
    for layer in m["layers"]:
        for pname, shape in layer["params"]:
            size = int(np.prod(shape))
            m["weights"][f"{layer['name']}/{pname}"] = flat[off:off + size].reshape(shape)
            off += size
    assert off == n_params, "weights must fill the architecture exactly"

    if "ADAM" in sec:
        a = sec["ADAM"]
        lr, b1, b2, eps, t, n = struct.unpack_from("<4fqQ", a)
        mv = np.frombuffer(a, "<f4", 2 * n, 32).reshape(2, n)
        m["adam"] = dict(lr=lr, beta1=b1, beta2=b2, epsilon=eps, t=t, m=mv[0], v=mv[1])
    if "TRST" in sec:
        t = sec["TRST"]
        f = struct.unpack_from("<3ifQdqqdI", t)  # 60 bytes, then the recipe
        keys = "epoch batch best_epoch best_val_acc seed loss_sum correct seen seconds".split()
        m["train"] = dict(zip(keys, f[:9]))
        m["train"]["recipe"] = t[60:60 + f[9]].decode("utf-8")
    m["meta"] = sec["META"].decode("utf-8") if "META" in sec else None
    return m


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: read_model.py MODEL.bin")
    m = read_model(argv[1])
    print(f"{argv[1]}: {m['kind']}, format version {m['version']}")
    print(f"architecture: {m['arch']}")
    print(f"classes: {', '.join(m['class_names'])}")
    print(f"statistics: {m['mean'].shape[0]}x{m['mean'].shape[1]}, mean of means {m['mean'].mean():.3f}, "
          f"mean std {m['std'].mean():.3f}")
    for name, w in m["weights"].items():
        print(f"  {name:24s} {str(w.shape):20s} mean {w.mean():+.6f} std {w.std():.6f}")
    total = sum(w.size for w in m["weights"].values())
    print(f"weights: {total}")
    if "train" in m:
        print(f"training state: {m['train']}")
        print(f"adam: t={m['adam']['t']} lr={m['adam']['lr']}")
    if m["meta"]:
        print("meta:\n  " + m["meta"].rstrip("\n").replace("\n", "\n  "))


if __name__ == "__main__":
    main(sys.argv)
