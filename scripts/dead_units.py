#!/usr/bin/python3
"""Counts the dead ReLU units of a fer model: units whose output is zero for
every one of N training images.

    /usr/bin/python3 scripts/dead_units.py MODEL.bin DATA.csv[.gz] [N]

A dead unit gets no gradient and never recovers (its weights stop moving), so
the count is capacity the fixed architecture has lost. N (default 2000) rows of
the Training split are standardised with the model's own statistics and run
through the network in inference mode (dropout off), in PyTorch, float32.
Prints one line per ReLU layer: "conv2d_2 29/64 dead". Reads the model with
read_model.py (numpy only) and needs Debian's python3-torch.
"""
import csv
import gzip
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_model import read_model  # noqa: E402


def training_rows(path, n, size):
    opener = gzip.open if path.endswith(".gz") else open
    out = []
    with opener(path, "rt", newline="") as f:
        for row in csv.DictReader(f):
            if row.get("Usage", "Training") != "Training":
                continue
            px = np.array(row["pixels"].split(), dtype=np.float32)
            if px.size != size:
                sys.exit(f"{path}: a row with {px.size} pixels, expected {size}")
            out.append(px)
            if len(out) == n:
                break
    if not out:
        sys.exit(f"{path}: no Training rows")
    return np.stack(out)


def relu_layers_alive(m, x):
    """x: (N, H, W, C) standardised. Yields (layer name, alive mask per unit)."""
    t = torch.from_numpy(x).permute(0, 3, 1, 2)  # NCHW
    for L in m["layers"]:
        kind, name = L["kind"], L["name"]
        if kind == "conv":
            k = torch.from_numpy(m["weights"][name + "/kernel"].copy()).permute(3, 2, 0, 1)
            b = torch.from_numpy(m["weights"][name + "/bias"].copy())
            t = F.conv2d(t, k, b, padding="same" if L["padding"] == "same" else 0)
            if L["activation"] == "relu":
                t = F.relu(t)
                yield name, (t > 0).any(dim=3).any(dim=2).any(dim=0)
        elif kind == "maxpool":
            t = F.max_pool2d(t, 2, 2)
        elif kind == "flatten":
            t = t.permute(0, 2, 3, 1).reshape(t.shape[0], -1)  # nn/'s (h, w, c) order
        elif kind == "dense":
            k = torch.from_numpy(m["weights"][name + "/kernel"].copy())
            b = torch.from_numpy(m["weights"][name + "/bias"].copy())
            t = t @ k + b
            if L["activation"] == "relu":
                t = F.relu(t)
                yield name, (t > 0).any(dim=0)


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit(__doc__.strip().split("\n\n")[1])
    m = read_model(argv[1])
    n = int(argv[3]) if len(argv) == 4 else 2000
    h, w, c = m["input"]
    raw = training_rows(argv[2], n, h * w * c).reshape(-1, h, w)
    x = ((raw - m["mean"]) / m["std"]).astype(np.float32)[..., None]
    torch.set_num_threads(1)
    total_dead = total = 0
    with torch.no_grad():
        for name, alive in relu_layers_alive(m, x):
            dead = int((~alive).sum())
            total_dead, total = total_dead + dead, total + alive.numel()
            print(f"{name:10s} {dead:4d}/{alive.numel()} dead")
    print(f"{'all':10s} {total_dead:4d}/{total} dead ({len(x)} training images)")


if __name__ == "__main__":
    main(sys.argv)
