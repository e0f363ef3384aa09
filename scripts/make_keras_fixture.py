#!/usr/bin/python3
"""Writes a small model the way Keras 2.x (tf.keras 2.6 - 2.15) itself writes
one, without TensorFlow: h5py calls as in keras/saving/hdf5_format.py
(save_weights_to_hdf5_group, save_model_to_hdf5) and a to_json() layer list
in TF 2 style -- InputLayer first, names conv2d, conv2d_1, ..., "groups",
GlorotUniform, separate Activation and ReLU layers, a conv without bias,
Rescaling then an adapted Normalization over the last axis (a single
mean/variance, count as int64).

    /usr/bin/python3 scripts/make_keras_fixture.py tests/fixtures/keras/keras2

writes DIR/fer.json + DIR/fer.h5 (model.to_json() + model.save_weights())
and DIR/model.h5 (model.save(): model_config attribute, /model_weights).
Weights are random from a fixed seed: the point is the file layout and the
layer semantics, which scripts/keras_reference.py then evaluates.
"""
import json
import os
import sys

import h5py
import numpy as np

KERAS_VERSION = "2.9.0"


def conv(name, filters, k, padding="valid", activation="linear", use_bias=True):
    return {"class_name": "Conv2D", "config": {
        "name": name, "trainable": True, "dtype": "float32", "filters": filters,
        "kernel_size": [k[0], k[1]], "strides": [1, 1], "padding": padding,
        "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
        "activation": activation, "use_bias": use_bias,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None}}


def dense(name, units, activation="linear"):
    d = conv(name, 0, (1, 1), activation=activation)
    c = d["config"]
    for k in ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups"):
        del c[k]
    c["units"] = units
    d["class_name"] = "Dense"
    return d


def simple(cls, name, **extra):
    return {"class_name": cls, "config": {"name": name, "trainable": True, "dtype": "float32", **extra}}


def model_layers():
    return [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 48, 48, 1], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "input_1"}},
        simple("Rescaling", "rescaling", scale=1.0 / 255, offset=0.0),
        simple("Normalization", "normalization", axis=[-1], mean=None, variance=None),
        conv("conv2d", 4, (3, 3), padding="same", activation="relu"),
        conv("conv2d_1", 6, (2, 2), use_bias=False),
        simple("ReLU", "re_lu", max_value=None, negative_slope=0.0, threshold=0.0),
        simple("MaxPooling2D", "max_pooling2d", pool_size=[2, 2], padding="valid", strides=[2, 2],
               data_format="channels_last"),
        simple("Dropout", "dropout", rate=0.25, noise_shape=None, seed=None),
        conv("conv2d_2", 8, (3, 3), activation="relu"),
        simple("MaxPooling2D", "max_pooling2d_1", pool_size=[2, 2], padding="valid", strides=[2, 2],
               data_format="channels_last"),
        simple("Flatten", "flatten", data_format="channels_last"),
        dense("dense", 16),
        simple("Activation", "activation", activation="relu"),
        dense("dense_1", 7),
        simple("Activation", "activation_1", activation="softmax"),
    ]


def weights(rng):
    def glorot(shape):
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        limit = 1.5 * np.sqrt(6.0 / (receptive * (shape[-2] + shape[-1])))
        return rng.uniform(-limit, limit, shape).astype(np.float32)

    def bias(n):
        return rng.normal(0, 0.05, n).astype(np.float32)

    return {
        "normalization": [np.array([0.52], np.float32), np.array([0.061], np.float32), np.array(28709, np.int64)],
        "conv2d": [glorot((3, 3, 1, 4)), bias(4)],
        "conv2d_1": [glorot((2, 2, 4, 6))],
        "conv2d_2": [glorot((3, 3, 6, 8)), bias(8)],
        "dense": [glorot((800, 16)), bias(16)],
        "dense_1": [glorot((16, 7)), bias(7)],
    }


def save_weights_to_hdf5_group(f, layers, values):
    """As keras/saving/hdf5_format.py: every layer listed, groups in sorted
    order, weight_names as a numpy byte array (an empty list for weightless
    layers, which h5py stores as an empty float64 array)."""
    names = [l["config"]["name"] for l in layers if l["class_name"] != "InputLayer"]
    f.attrs["layer_names"] = [n.encode("utf8") for n in names]
    f.attrs["backend"] = "tensorflow".encode("utf8")
    f.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
    suffix = {2: ["kernel:0", "bias:0"], 1: ["kernel:0"], 3: ["mean:0", "variance:0", "count:0"]}
    for name in sorted(names):
        g = f.create_group(name)
        vals = values.get(name, [])
        wnames = [f"{name}/{s}".encode("utf8") for s in suffix.get(len(vals), [])]
        g.attrs["weight_names"] = wnames
        for wn, v in zip(wnames, vals):
            d = g.create_dataset(wn, v.shape, dtype=v.dtype)
            if not v.shape:
                d[()] = v
            else:
                d[:] = v


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    layers = model_layers()
    values = weights(np.random.default_rng(2013))
    model = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers},
             "keras_version": KERAS_VERSION, "backend": "tensorflow"}
    with open(os.path.join(out, "fer.json"), "w") as f:
        json.dump(model, f)
    with h5py.File(os.path.join(out, "fer.h5"), "w") as f:
        save_weights_to_hdf5_group(f, layers, values)
    with h5py.File(os.path.join(out, "model.h5"), "w") as f:  # model.save("model.h5")
        f.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
        f.attrs["backend"] = "tensorflow".encode("utf8")
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": model["config"]}).encode("utf8")
        save_weights_to_hdf5_group(f.create_group("model_weights"), layers, values)
    print(f"wrote {out}/fer.json, fer.h5, model.h5")


if __name__ == "__main__":
    main()
