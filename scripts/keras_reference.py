#!/usr/bin/python3
"""Class probabilities of a Keras model (fer.json + fer.h5) computed from
scratch with numpy, with Keras' semantics -- no TensorFlow, no code of ours --
written as a fixture that tests/test_export_keras_reference.c compares with
the toolkit's own inference.

    /usr/bin/python3 scripts/keras_reference.py --json DIR/fer.json --h5 DIR/fer.h5 \\
        [--model model.bin] --images /work/shared/data/faces/*.{png,jpg} \\
        [--synthetic 2] -o DIR/reference.bin [--png crops.png]

Faces: OpenCV's default frontal Haar cascade finds them in --images; each
gives a tight 48x48 crop, one with a margin and a mirrored one (INTER_AREA).
--synthetic adds seeded non-face images. Never pass FER2013 rows here: the
fixture is committed.

Keras semantics, channels-last throughout: Conv2D is cross-correlation with
kernel (kh, kw, in, out), 'same' padding puts (k-1)//2 before and the rest
after (TensorFlow's rule); MaxPooling2D 2x2 stride 2 drops an odd last
row/column; Flatten reads (h, w, c) in C order; Dense is x @ kernel + bias;
Normalization is (x - mean) / max(sqrt(variance), 1e-7) broadcast over the
reduced axes; weights are matched to layers in order, as load_weights does.

With --model, also checks from Python that model.bin and the Keras pair hold
the same weights bit for bit (and the statistics as mean / sqrt(variance)).
It always reports the negative control: the same pass with a channels-first
Flatten, i.e. what a layout mistake would give.

Output (little-endian): b"FERKREF1", u32 n, h, w, k, then n*h*w uint8
images, then n*k float64 probabilities.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
EPSILON = 1e-7  # keras.backend.epsilon()


# ---- reading the Keras pair -------------------------------------------------------

def strings(attr):
    return [s.decode("utf8") if isinstance(s, bytes) else str(s) for s in np.atleast_1d(attr)]


def chunked_attr(group, name):
    """Keras splits long attributes into name0, name1, ..."""
    if name in group.attrs:
        return strings(group.attrs[name])
    out, k = [], 0
    while f"{name}{k}" in group.attrs:
        out += strings(group.attrs[f"{name}{k}"])
        k += 1
    return out


def keras_layers(model_json):
    cfg = model_json["config"]
    layers = cfg if isinstance(cfg, list) else cfg["layers"]
    assert model_json["class_name"] == "Sequential"
    return layers


def has_weights(layer):
    c = layer["config"]
    if layer["class_name"] in ("Conv2D", "Dense"):
        return True
    return layer["class_name"] == "Normalization" and c.get("mean") is None


def load_weights(layers, h5):
    """Keras' topological load: weighted layers of the file, in order."""
    import h5py  # Debian's python3-h5py
    f = h5py.File(h5, "r")
    root = f["model_weights"] if "layer_names" not in f.attrs and "model_weights" in f else f
    file_layers = []
    for name in chunked_attr(root, "layer_names"):
        names = chunked_attr(root[name], "weight_names")
        if names:
            file_layers.append([np.asarray(root[name][w][()]) for w in names])
    model_layers = [l for l in layers if l["class_name"] != "InputLayer" and has_weights(l)]
    assert len(file_layers) == len(model_layers), "weighted layer counts differ"
    weights = {l["config"]["name"]: w for l, w in zip(model_layers, file_layers)}
    extras = {k: root.attrs[k] for k in ("fer_class_names",) if k in root.attrs}
    return weights, extras


# ---- the forward pass ---------------------------------------------------------------

def input_shape(layers):
    c = layers[0]["config"]
    shape = c.get("batch_input_shape") or c.get("batch_shape")
    return tuple(shape[1:])


def activation(x, name):
    if name in (None, "linear"):
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(f"activation {name}")


def conv2d(x, kernel, bias, padding):
    kh, kw = kernel.shape[:2]
    if padding == "same":
        ph, pw = kh - 1, kw - 1
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # n, oh, ow, c, kh, kw
    y = np.einsum("nhwcij,ijcf->nhwf", win, kernel, optimize=True)
    return y + bias if bias is not None else y


def maxpool2(x):
    n, h, w, c = x.shape
    x = x[:, :h // 2 * 2, :w // 2 * 2, :]
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def forward(layers, weights, images, channels_first_flatten=False):
    x = images.astype(np.float64)[..., None]  # n, h, w, 1: raw grey levels
    for layer in layers:
        cls, c = layer["class_name"], layer["config"]
        w = [np.asarray(a, np.float64) for a in weights.get(c["name"], [])]
        if cls == "InputLayer" or cls == "Dropout":
            continue
        if cls == "Rescaling":
            x = x * c.get("scale", 1.0) + c.get("offset", 0.0)
        elif cls == "Normalization":
            axis = c.get("axis", -1)
            keep = sorted(a % x.ndim for a in ([axis] if isinstance(axis, int) else axis or []))
            bshape = [x.shape[d] if d in keep else 1 for d in range(x.ndim)]
            mean, var = (w[0], w[1]) if w else (np.float64(c["mean"]), np.float64(c["variance"]))
            x = (x - mean.reshape(bshape)) / np.maximum(np.sqrt(var.reshape(bshape)), EPSILON)
        elif cls == "Conv2D":
            assert tuple(c.get("strides", (1, 1))) == (1, 1) and c.get("data_format") in (None, "channels_last")
            x = activation(conv2d(x, w[0], w[1] if len(w) > 1 else None, c.get("padding", "valid")),
                           c.get("activation"))
        elif cls == "MaxPooling2D":
            assert tuple(c.get("pool_size", (2, 2))) == (2, 2)
            x = maxpool2(x)
        elif cls == "Flatten":
            if channels_first_flatten:
                x = x.transpose(0, 3, 1, 2)
            x = x.reshape(x.shape[0], -1)
        elif cls == "Dense":
            x = activation(x @ w[0] + (w[1] if len(w) > 1 else 0.0), c.get("activation"))
        elif cls == "Activation":
            x = activation(x, c["activation"])
        elif cls == "ReLU":
            x = np.maximum(x, 0.0)
        else:
            raise ValueError(f"layer {c['name']}: {cls} not handled")
    return x


# ---- inputs ---------------------------------------------------------------------------

def face_crops(paths, side):
    import cv2
    cascade = cv2.CascadeClassifier(CASCADE)
    crops = []
    for path in paths:
        grey = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if grey is None:
            sys.exit(f"{path}: cannot read")
        faces = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5)
        if len(faces) == 0:
            print(f"{path}: no face found, skipped", file=sys.stderr)
        for (x, y, w, h) in faces:
            tight = cv2.resize(grey[y:y + h, x:x + w], (side, side), interpolation=cv2.INTER_AREA)
            m = int(0.15 * w)
            x0, y0 = max(x - m, 0), max(y - m, 0)
            loose = grey[y0:min(y + h + m, grey.shape[0]), x0:min(x + w + m, grey.shape[1])]
            crops += [tight, cv2.resize(loose, (side, side), interpolation=cv2.INTER_AREA), tight[:, ::-1]]
            print(f"{path}: face at x={x} y={y} w={w} h={h}", file=sys.stderr)
    return crops


def synthetic(n, side, seed=7):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side] / (side - 1)
    out = []
    for i in range(n):
        smooth = 128 + 90 * np.sin(2 * np.pi * (xx * (i + 1) + yy * 0.5)) * np.cos(np.pi * yy * (i + 2))
        out.append(np.clip(smooth + rng.normal(0, 12, (side, side)), 0, 255).astype(np.uint8))
    return out


# ---- checks against model.bin ------------------------------------------------------------

def check_model_bin(path, layers, weights, extras):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from read_model import read_model
    m = read_model(path)
    n_checked = 0
    for name, w in m["weights"].items():
        lname, pname = name.split("/")
        got = weights[lname][0 if pname == "kernel" else 1]
        assert got.dtype == np.float32 and got.shape == w.shape and np.array_equal(got, w), name
        n_checked += w.size
    norm = [l["config"]["name"] for l in layers if l["class_name"] == "Normalization"]
    if norm:
        mean, var = weights[norm[0]][0], weights[norm[0]][1]
        assert np.array_equal(mean.reshape(m["mean"].shape), m["mean"])
        assert np.array_equal(np.sqrt(var.astype(np.float32)).reshape(m["std"].shape), m["std"])
    if "fer_class_names" in extras:
        assert strings(extras["fer_class_names"]) == m["class_names"]
    print(f"{path}: the Keras pair holds the same {n_checked} weights bit for bit, and the statistics",
          file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", required=True)
    ap.add_argument("--h5", required=True)
    ap.add_argument("--model", help="model.bin to check against the Keras pair")
    ap.add_argument("--images", nargs="*", default=[], help="photos to find faces in")
    ap.add_argument("--synthetic", type=int, default=0, help="seeded non-face images to add")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--png", help="also save the crops side by side here")
    a = ap.parse_args()

    layers = keras_layers(json.load(open(a.json)))
    weights, extras = load_weights(layers, a.h5)
    if a.model:
        check_model_bin(a.model, layers, weights, extras)
    h, w, c = input_shape(layers)
    assert h == w and c == 1
    images = np.stack(face_crops(a.images, h) + synthetic(a.synthetic, h))
    probs = forward(layers, weights, images)
    if layers[-1]["config"].get("activation") != "softmax":
        probs = activation(probs, "softmax")  # a logits model: compare probabilities
    wrong = forward(layers, weights, images, channels_first_flatten=True)
    if layers[-1]["config"].get("activation") != "softmax":
        wrong = activation(wrong, "softmax")
    print(f"{len(images)} images; channels-first Flatten would change the probabilities by up to "
          f"{np.abs(wrong - probs).max():.4f}", file=sys.stderr)
    with open(a.out, "wb") as f:
        f.write(b"FERKREF1" + struct.pack("<4I", len(images), h, w, probs.shape[1]))
        f.write(images.astype(np.uint8).tobytes())
        f.write(probs.astype("<f8").tobytes())
    if a.png:
        import cv2
        cv2.imwrite(a.png, cv2.resize(np.hstack(images), None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST))
    np.set_printoptions(precision=4, suppress=True)
    print(probs, file=sys.stderr)


if __name__ == "__main__":
    main()
