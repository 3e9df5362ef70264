#!/usr/bin/env python3
"""Reference fixtures for style transfer, DeepDream and the diversity objective, computed with torch autograd.

ConvLens and its tests never import torch: this script runs by hand (torch 2.13 CPU, numpy, Pillow) and writes its
small outputs to Tests/Fixtures/dream/ (committed, about 250 KB). Tests/AnalysisTests/DreamStyleFixtureTests.swift
checks them.

    python3 -m venv /tmp/dream-venv && /tmp/dream-venv/bin/pip install numpy pillow torch==2.13.0
    /tmp/dream-venv/bin/python Scripts/make_dream_style_fixtures.py

The network is a small VGG-like `features` stack with torch's default (seeded) initialisation:
    0 conv 3→8, 1 relu, 2 conv 8→8, 3 relu, 4 maxpool 2, 5 conv 8→16, 6 relu, 7 conv 16→16, 8 relu, 9 maxpool 2,
    10 conv 16→16, 11 relu                                       (3x3 convolutions, padding 1)
The image x is RGB in [0, 1]; the network sees torchvision's normalisation of it, (x − mean) / std.

Losses (ConvLens's definitions, Sources/Analysis/Objective+Style.swift):
    gram(F) = F·Fᵀ / M, F the (C, M = h·w) features
    style_l = Σ(gram(F_l(x)) − gram(F_l(s)))² / Σ gram(F_l(s))²     at features.1, .6, .11
    content = Σ(F(x) − F(c))² / Σ F(c)²                              at features.8
    tv      = (Σ (x[..., 1:] − x[..., :-1])² + Σ (x[..., 1:, :] − x[..., :-1, :])²) / (C·H·W)
    total   = β·mean_l style_l + α·content + γ·tv                    with β = 2, α = 0.5, γ = 3
DeepDream (the Keras example, keras.io/examples/generative/deep_dream):
    loss    = Σ_l coeff_l · Σ a_l[:, :, 2:-2, 2:-2]² / numel(a_l)   features.6 × 1, features.11 × 1.5
    step    : x += 0.01 · g / max(mean|g|, 1e-6),  g = ∇loss
    dream   : octaves 3, scale 1.4, 3 steps each, bilinear resizing with half-pixel centres, lost detail re-injected,
              clipped to [0, 1] at the end
Diversity (lucent's objectives.diversity, negated so that it is maximised), at features.6 over a batch of 3:
    G_i = F_i·F_iᵀ, Ĝ_i = G_i / ‖G_i‖,  score_i = −Σ_{j≠i} ⟨Ĝ_i, Ĝ_j⟩ / N

Files (float32):
    net.pth                   state dict: features.{0,2,5,7,10}.{weight,bias}
    content.npy, style.npy    (1, 3, 40, 48) and (1, 3, 32, 36): Samples/chelsea.png and coffee.png, resized by Pillow
    x.npy                     (1, 3, 40, 48) content + seeded noise ×0.1, where the losses are evaluated
    losses.npy                (6) style_1, style_6, style_11, content, tv, total
    grads.npy                 (6, 3, 40, 48) the gradient of each of those with respect to x
    gram.npy                  (16, 16) gram(F_6(content))
    dream_loss.npy            (1) the dream loss at content
    dream_step.npy            (1, 3, 40, 48) content after one step
    dream_full.npy            (1, 3, 40, 48) the whole dream of content
    diversity_input.npy       (3, 3, 24, 28) a batch of images
    diversity_scores.npy      (3) each item's score
    diversity_grad.npy        (3, 3, 24, 28) the gradient of the scores' sum
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "dream")
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
STYLE_LAYERS, CONTENT_LAYER = [1, 6, 11], 8
BETA, ALPHA, GAMMA = 2.0, 0.5, 3.0
DREAM = {6: 1.0, 11: 1.5}
torch.set_num_threads(2)


def network():
    torch.manual_seed(0)
    layers = []
    c = 3
    for v in [8, 8, "M", 16, 16, "M", 16]:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
            c = v
    return nn.Sequential(*layers).eval()


def outputs(features, x, wanted):
    """The outputs of the layers in `wanted` for the image x in [0, 1]."""
    h, out = (x - MEAN) / STD, {}
    for i, layer in enumerate(features):
        h = layer(h)
        if i in wanted:
            out[i] = h
    return out


def gram(f):
    n, c, hh, ww = f.shape
    f = f.reshape(n, c, hh * ww)
    return f @ f.transpose(1, 2) / (hh * ww)


def tv(x):
    n, c, h, w = x.shape
    return (((x[..., 1:] - x[..., :-1]) ** 2).sum() + ((x[..., 1:, :] - x[..., :-1, :]) ** 2).sum()) / (c * h * w)


def photo(name, h, w):
    im = Image.open(os.path.join(ROOT, "Samples", name)).convert("RGB").resize((w, h), Image.BILINEAR)
    return torch.tensor(np.asarray(im, np.float32) / 255).permute(2, 0, 1)[None].contiguous()


def dream_loss(features, x):
    out = outputs(features, x, DREAM)
    return sum(k * (out[i][:, :, 2:-2, 2:-2] ** 2).sum() / out[i].numel() for i, k in DREAM.items())


def dream_step(features, x, lr=0.01):
    x = x.clone().requires_grad_(True)
    loss = dream_loss(features, x)
    g, = torch.autograd.grad(loss, x)
    g = g / torch.clamp(g.abs().mean(), min=1e-6)
    return (x + lr * g).detach(), loss.item()


def resize(x, size):
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=False)


def dream(features, original, octaves=3, scale=1.4, steps=3):
    shape = original.shape[2:]
    shapes = [tuple(int(d / scale ** i) for d in shape) for i in range(octaves)][::-1]
    shrunk = resize(original, shapes[0])
    img = original.clone()
    for s in shapes:
        img = resize(img, s)
        for _ in range(steps):
            img, _ = dream_step(features, img)
        same = resize(original, s)
        img = img + same - resize(shrunk, s)
        shrunk = same
    return img.clamp(0, 1)


def diversity(features, x):
    f = outputs(features, x, {6})[6]
    n, c = f.shape[:2]
    flat = f.reshape(n, c, -1)
    grams = F.normalize(flat @ flat.transpose(1, 2), p=2, dim=(1, 2))
    return torch.stack([-sum((grams[i] * grams[j]).sum() for j in range(n) if j != i) / n for i in range(n)])


def main():
    os.makedirs(OUT, exist_ok=True)
    features = network()
    torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, os.path.join(OUT, "net.pth"))
    content, style = photo("chelsea.png", 40, 48), photo("coffee.png", 32, 36)
    rng = np.random.default_rng(0)
    x = (content + 0.1 * torch.tensor(rng.standard_normal(content.shape, dtype=np.float32))).requires_grad_(True)

    with torch.no_grad():
        targets_c = outputs(features, content, {CONTENT_LAYER})
        targets_s = {i: gram(f) for i, f in outputs(features, style, STYLE_LAYERS).items()}
    out = outputs(features, x, STYLE_LAYERS + [CONTENT_LAYER])
    style_terms = [((gram(out[i]) - targets_s[i]) ** 2).sum() / (targets_s[i] ** 2).sum() for i in STYLE_LAYERS]
    content_term = ((out[CONTENT_LAYER] - targets_c[CONTENT_LAYER]) ** 2).sum() / (targets_c[CONTENT_LAYER] ** 2).sum()
    tv_term = tv(x)
    total = BETA * sum(style_terms) / len(style_terms) + ALPHA * content_term + GAMMA * tv_term
    terms = style_terms + [content_term, tv_term, total]
    grads = [torch.autograd.grad(t, x, retain_graph=True)[0] for t in terms]
    with torch.no_grad():
        g6 = gram(outputs(features, content, {6})[6])[0]

    step, loss = dream_step(features, content)
    full = dream(features, content)

    batch = torch.tensor(rng.random((3, 3, 24, 28), dtype=np.float32), requires_grad=True)
    scores = diversity(features, batch)
    dgrad, = torch.autograd.grad(scores.sum(), batch)

    files = {
        "content": content, "style": style, "x": x, "losses": torch.stack(terms), "grads": torch.cat(grads), "gram": g6,
        "dream_loss": torch.tensor([loss]), "dream_step": step, "dream_full": full,
        "diversity_input": batch, "diversity_scores": scores, "diversity_grad": dgrad,
    }
    for name, t in files.items():
        np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(t.detach().numpy(), np.float32))
    print("losses (style 1, 6, 11, content, tv, total):", [round(float(t.detach()), 6) for t in terms])
    print("dream loss:", loss, " mean |step|:", float((step - content).abs().mean()), " diversity:", scores.tolist())


if __name__ == "__main__":
    main()
