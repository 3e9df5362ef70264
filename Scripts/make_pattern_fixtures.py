#!/usr/bin/env python3
"""Reference fixtures for filter patterns: the Keras book's recipe run in torch on a narrow random VGG16.

ConvLens and its tests never import torch: this script runs by hand (torch 2.13 CPU, numpy) and writes its small
outputs to Tests/Fixtures/patterns/ (committed, ~500 KB). Tests/AnalysisTests/PatternKerasTests.swift checks them.

    /tmp/torch-venv/bin/python Scripts/make_pattern_fixtures.py

The recipe, as in Chollet, "Deep Learning with Python" (1st ed., §5.4.2, generate_pattern):
    input_img_data = np.random.random((1, size, size, 3)) * 20 + 128.      # here through torchvision's Normalize
    loss = K.mean(layer_output[:, :, :, filter_index])
    grads /= (K.sqrt(K.mean(K.square(grads))) + 1e-5)
    for i in range(40): input_img_data += grads_value * step                 # step = 1
    deprocess_image(x): x -= x.mean(); x /= (x.std() + 1e-5); x *= 0.1; x += 0.5; clip(0, 1); *255; astype(uint8)

The network is torchvision's VGG16 with every width divided by 16 (ConvLens's `Variant(widthDivisor: 16)`),
with Scripts/make_zoo_fixtures.py's seeded random weights. Only the `features` layers up to the target are saved.
The layer is features.11, the ReLU after block3_conv1 (Keras's block3_conv1 output includes its ReLU). One batch
item per filter; the items do not interact, so the batch gives the same numbers as 12 separate runs.

Files (float32):
    vgg16_div16_features.pth   state dict: features.{0,2,5,7,10}.{weight,bias}
    start.npy                  (12, 3, 32, 32) the noise in the model's input space (torchvision normalisation)
    keras_result.npy           (12, 3, 32, 32) the input after 40 steps
    keras_display.npy          (12, 3, 32, 32) deprocess_image of the result in pixel units (RGB), / 255
    keras_activation.npy       (12,) the mean activation of each filter on its own result
"""
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Scripts"))
from make_zoo_fixtures import VGG, VGG_CFG, randomise  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "Fixtures", "patterns")
LAYER, FILTERS, SIZE, STEPS = 11, 12, 32, 40
MEAN = np.array([0.485, 0.456, 0.406], np.float32)[None, :, None, None]
STD = np.array([0.229, 0.224, 0.225], np.float32)[None, :, None, None]
torch.set_num_threads(2)


def keras_recipe(features, start, steps=STEPS):
    """The book's loop, one filter per batch item (item i maximises channel i), in float32."""
    x = torch.tensor(start)
    for _ in range(steps):
        x.requires_grad_(True)
        out = features(x)                                             # (N, C, h, w)
        loss = sum(out[i, i].mean() for i in range(x.shape[0]))
        g, = torch.autograd.grad(loss, x)
        g = g / (g.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt() + 1e-5)
        x = (x + g * 1.0).detach()
    return x.numpy()


def deprocess(x):
    x = x - x.mean()
    x = x / (x.std() + 1e-5)
    x = np.clip(x * 0.1 + 0.5, 0, 1)
    return np.floor(x * 255) / 255                                    # astype('uint8') truncates


def main():
    os.makedirs(OUT, exist_ok=True)
    model = randomise(VGG(VGG_CFG["vgg16"], False, classes=10, div=16), seed=7)
    features = model.features[:LAYER + 1]
    sd = {k: v.clone() for k, v in model.state_dict().items()
          if k.startswith("features.") and int(k.split(".")[1]) <= LAYER}
    torch.save(sd, os.path.join(OUT, "vgg16_div16_features.pth"))

    rng = np.random.default_rng(0)
    pixels = rng.random((FILTERS, 3, SIZE, SIZE), dtype=np.float32) * 20 + 128
    start = ((pixels / np.float32(255) - MEAN) / STD).astype(np.float32)
    result = keras_recipe(features, start)
    with torch.no_grad():
        act = features(torch.tensor(result)).mean((2, 3)).numpy()
    own = np.array([act[i, i] for i in range(FILTERS)], np.float32)
    display = np.stack([deprocess((r * STD[0] + MEAN[0]) * 255) for r in result]).astype(np.float32)

    for name, a in [("start", start), ("keras_result", result), ("keras_display", display), ("keras_activation", own)]:
        np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(a, np.float32))
    moved = np.abs(result - start).reshape(FILTERS, -1).max(1)
    print("own activations:", own.round(3))
    print("filters that moved:", int((moved > 0).sum()), "of", FILTERS, "; largest |x| after 40 steps:", float(np.abs(result).max()))


if __name__ == "__main__":
    main()
