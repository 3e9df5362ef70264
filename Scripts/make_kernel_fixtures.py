#!/usr/bin/env python3
"""Reference outputs of `convlens activations --kernel` for Tests/Fixtures/kernels/.

Each case is a kernel file (<case>.json) run on input.png, a 17x13 noise image (so no resizing happens: "size" is
its shorter side), and every stage the demo's raw file holds, one .npy each: <case>/<field>.npy, with the raw
file's field names ("input", "kernels", "conv", "relu", "max", ..., prefixed "same." etc. with several paddings).

The references are written from the definitions with numpy, not from ConvLens's code:
  - convolution: PyTorch's conv2d / TensorFlow's tf.nn.conv2d, i.e. cross-correlation over the zero-padded image;
    SAME from TensorFlow's documented rule: out = ceil(n / s), pad_total = max((out - 1) s + k - n, 0),
    pad_top = pad_total // 2, the rest at the bottom (and the same for left/right);
  - transposed convolution: the adjoint (transpose) of that convolution on an input of the output's size, which is
    how TensorFlow defines conv2d_transpose (the gradient of conv2d) and what PyTorch's ConvTranspose2d computes;
    the output size is (n - 1) s + k - 2 p for a number p, (n - 1) s + k for "valid", n s for "same";
  - max / average pooling: non-overlapping pool x pool windows, the remainder dropped (MaxPool2d(p), AvgPool2d(p));
  - depth-wise max: the maximum over groups of d consecutive channels (tf.nn.max_pool, ksize (1, 1, 1, d));
  - global average: the mean of each channel;
  - grey: Pillow's Image.convert("L"); pixels / 255.
When torch is importable, the script also checks the numpy references against torch.nn.functional (conv2d,
conv_transpose2d, max_pool2d, avg_pool2d) wherever torch has the same operation.

    python3 Scripts/make_kernel_fixtures.py          # numpy and Pillow; torch optional
"""
import json
import os
import shutil

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "kernels")

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None


def same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def forward_pads(padding, n, k, s):
    if padding == "same":
        return same_pads(n, k, s)
    if padding == "valid":
        return 0, 0
    return padding, padding


def conv_matrix(w, n_in, m_in, s, pads_h, pads_w):
    """The cross-correlation of one (k, k) kernel over a zero-padded n_in x m_in image as a matrix A:
    y.ravel() = A @ x.ravel(). A[(i, j), (p, q)] = w[p - (i s - top), q - (j s - left)]."""
    k = w.shape[0]
    n_out = (n_in + sum(pads_h) - k) // s + 1
    m_out = (m_in + sum(pads_w) - k) // s + 1
    a = np.zeros((n_out * m_out, n_in * m_in))
    for i in range(n_out):
        for j in range(m_out):
            for ki in range(k):
                for kj in range(k):
                    p, q = i * s - pads_h[0] + ki, j * s - pads_w[0] + kj
                    if 0 <= p < n_in and 0 <= q < m_in:
                        a[i * m_out + j, p * m_in + q] += w[ki, kj]
    return a, n_out, m_out


def conv2d(x, w, b, s, padding):
    """x (C, H, W), w (N, C, k, k), b (N) -> (N, Ho, Wo): windows of the zero-padded image."""
    c, h, wd = x.shape
    k = w.shape[2]
    (t, bo), (l, r) = forward_pads(padding, h, k, s), forward_pads(padding, wd, k, s)
    xp = np.pad(x.astype(np.float64), ((0, 0), (t, bo), (l, r)))
    ho, wo = (xp.shape[1] - k) // s + 1, (xp.shape[2] - k) // s + 1
    y = np.zeros((w.shape[0], ho, wo))
    for n in range(w.shape[0]):
        for i in range(ho):
            for j in range(wo):
                y[n, i, j] = np.sum(xp[:, i * s:i * s + k, j * s:j * s + k] * w[n]) + b[n]
    # Self-check: the matrix form (used for the transposed convolution) gives the same numbers.
    for n in range(w.shape[0]):
        acc = sum(conv_matrix(w[n, ci], h, wd, s, (t, bo), (l, r))[0] @ x[ci].ravel().astype(np.float64) for ci in range(c))
        assert np.allclose(acc.reshape(ho, wo) + b[n], y[n]), "conv matrix disagrees with the windows"
    return y


def conv_transpose2d(x, w, b, s, padding):
    """x (C, H, W), w (N, C, k, k), b (N) -> (N, Ho, Wo): the adjoint of conv2d on an Ho x Wo input."""
    c, h, wd = x.shape
    k = w.shape[2]

    def size(n):
        if padding == "same":
            return n * s
        if padding == "valid":
            return (n - 1) * s + k
        return (n - 1) * s + k - 2 * padding

    ho, wo = size(h), size(wd)
    y = np.zeros((w.shape[0], ho, wo))
    for n in range(w.shape[0]):
        for ci in range(c):
            a, n_out, m_out = conv_matrix(w[n, ci], ho, wo, s, forward_pads(padding, ho, k, s), forward_pads(padding, wo, k, s))
            assert (n_out, m_out) == (h, wd), f"the forward of a {ho}x{wo} input gives {n_out}x{m_out}, not {h}x{wd}"
            y[n] += (a.T @ x[ci].ravel().astype(np.float64)).reshape(ho, wo)
        y[n] += b[n]
    return y


def pool(x, p, op):
    n, h, w = x.shape
    ho, wo = h // p, w // p
    return op(x[:, :ho * p, :wo * p].reshape(n, ho, p, wo, p), axis=(2, 4))


def run(spec, image):
    """Every stage of the demo, as the raw file names them."""
    kernels = spec["kernels"]
    w = np.array([k["weights"] for k in kernels], dtype=np.float64)
    colour = w.ndim == 4
    if not colour:
        w = w[:, None]
    b = np.array([k.get("bias", 0) for k in kernels], dtype=np.float64)
    if colour:
        x = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255
    else:
        x = (np.asarray(image.convert("L"), dtype=np.float32) / 255)[None]
    fields = {"input": x, "kernels": w}
    paddings = spec.get("padding", 0)
    paddings = paddings if isinstance(paddings, list) else [paddings]
    poolings = spec.get("pooling", "max")
    poolings = poolings if isinstance(poolings, list) else [poolings]
    s, p = spec.get("stride", 1), spec.get("pool", 2)
    d = spec.get("depth_pool", len(kernels))
    for padding in paddings:
        prefix = "" if len(paddings) == 1 else {"same": "same.", "valid": "valid."}.get(padding, f"pad{padding}.")
        y = (conv_transpose2d if spec.get("transpose") else conv2d)(x, w, b, s, padding)
        r = np.maximum(y, 0)
        fields[prefix + "conv"], fields[prefix + "relu"] = y, r
        for kind in poolings:
            if kind == "max":
                out = pool(r, p, np.max)
            elif kind == "average":
                out = pool(r, p, np.mean)
            elif kind == "depth_max":
                out = r.reshape(r.shape[0] // d, d, *r.shape[1:]).max(axis=1)
            else:
                out = r.mean(axis=(1, 2), keepdims=True)
            fields[prefix + kind] = out
        if torch is not None:
            check_torch(spec, x, w, b, padding, y, r, fields, prefix)
    return {k: np.asarray(v, dtype=np.float32) for k, v in fields.items()}


def check_torch(spec, x, w, b, padding, y, r, fields, prefix):
    """The numpy references against torch.nn.functional where torch has the operation."""
    tx, tw, tb = (torch.tensor(np.asarray(a, dtype=np.float64)) for a in (x, w, b))
    s, p = spec.get("stride", 1), spec.get("pool", 2)
    if spec.get("transpose"):
        if padding != "same":  # torch has no SAME for conv_transpose2d
            pad = 0 if padding == "valid" else padding
            ref = F.conv_transpose2d(tx[None], tw.transpose(0, 1), tb, stride=s, padding=pad)[0]
            assert np.allclose(ref.numpy(), y), f"{spec.get('title')}: conv_transpose2d disagrees"
    else:
        (t, bo), (l, rr) = forward_pads(padding, x.shape[1], w.shape[2], s), forward_pads(padding, x.shape[2], w.shape[2], s)
        ref = F.conv2d(F.pad(tx[None], (l, rr, t, bo)), tw, tb, stride=s)[0]
        assert np.allclose(ref.numpy(), y), f"{spec.get('title')}: conv2d disagrees"
    tr = torch.tensor(r)[None]
    if prefix + "max" in fields:
        assert np.allclose(F.max_pool2d(tr, p)[0].numpy(), fields[prefix + "max"])
    if prefix + "average" in fields:
        assert np.allclose(F.avg_pool2d(tr, p)[0].numpy(), fields[prefix + "average"])


EDGES = [  # Udacity's conv_visualization notebook (PyTorch): four 4x4 edge filters
    [[-1, -1, 1, 1]] * 4,
    [[1, 1, -1, -1]] * 4,
    [[-1] * 4, [-1] * 4, [1] * 4, [1] * 4],
    [[1] * 4, [1] * 4, [-1] * 4, [-1] * 4],
]


def line(vertical, k=7):
    """Géron's chapter 14 (TensorFlow) line filters: ones down the middle column or across the middle row, on every
    colour channel."""
    f = np.zeros((k, k))
    if vertical:
        f[:, k // 2] = 1
    else:
        f[k // 2, :] = 1
    return np.stack([f] * 3).tolist()


def cases():
    rng = np.random.default_rng(7)
    rnd = lambda *shape: np.round(rng.uniform(-1, 1, shape), 3).tolist()
    names = ["left", "right", "up", "down"]
    return {
        "pytorch_valid": {"title": "PyTorch tutorial: 4x4 edges, VALID, max pool 2", "size": 13,
                          "kernels": [{"name": n, "weights": e} for n, e in zip(names, EDGES)]},
        "tf_same_valid_stride2": {"title": "SAME and VALID, stride 2, every pooling", "size": 13, "stride": 2,
                                  "padding": ["same", "valid"], "pool": 2, "depth_pool": 2,
                                  "pooling": ["max", "average", "depth_max", "global_average"],
                                  "kernels": [{"name": n, "weights": e, "bias": -0.25} for n, e in zip(names, EDGES)]},
        "colour_pad2_stride3": {"size": 13, "stride": 3, "padding": 2, "pooling": "average", "pool": 2,
                                "kernels": [{"weights": rnd(3, 5, 5), "bias": 0.1}, {"weights": rnd(3, 5, 5), "bias": -0.2}]},
        "geron_lines_same": {"title": "Géron: 7x7 line filters, SAME", "size": 13, "padding": "same",
                             "pooling": ["max", "global_average"],
                             "kernels": [{"name": "vertical", "weights": line(True)}, {"name": "horizontal", "weights": line(False)}]},
        "transpose_stride2": {"size": 13, "stride": 2, "transpose": True, "padding": ["same", "valid", 1],
                              "pooling": ["max", "depth_max"], "pool": 3,
                              "kernels": [{"weights": rnd(3, 3), "bias": 0.05}, {"weights": rnd(3, 3)}]},
        "transpose_colour_k2_stride3": {"size": 13, "stride": 3, "transpose": True, "padding": ["same", "valid"],
                                        "pooling": "global_average",
                                        "kernels": [{"weights": rnd(3, 2, 2)}, {"weights": rnd(3, 2, 2), "bias": 0.3}]},
        "transpose_even_same": {"size": 13, "stride": 2, "transpose": True, "padding": "same", "pooling": [],
                                "kernels": [{"weights": rnd(4, 4)}]},
    }


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    rng = np.random.default_rng(12)
    image = Image.fromarray(rng.integers(0, 256, (13, 17, 3), dtype=np.uint8))  # 17 wide, 13 high
    image.save(os.path.join(OUT, "input.png"))
    for name, spec in cases().items():
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(spec, f, ensure_ascii=False)
            f.write("\n")
        os.makedirs(os.path.join(OUT, name))
        fields = run(spec, image)
        for field, value in fields.items():
            np.save(os.path.join(OUT, name, field + ".npy"), value)
        print(f"{name}: {', '.join(f'{k} {v.shape}' for k, v in fields.items())}")
    print("checked against torch" if torch is not None else "torch not importable: numpy references only")


if __name__ == "__main__":
    main()
