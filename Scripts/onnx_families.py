"""Small CNNs in plain torch, one per family, with torchvision's module names, for Scripts/make_onnx_fixtures.py.

torchvision does not install beside torch 2.13 CPU, so each family is written here after torchvision's (or timm's,
for the TF-style net) source: `layer2`, `features.3`, `trunk_output.block1.block1-0.f.b` are the module paths a user
of the real model would type. Widths are tiny so that the fixtures stay small; the structure is what matters.
Deviations from the originals are named where they are made.
"""
import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from make_zoo_fixtures import Bottleneck, ResNet


# ---------------------------------------------------------------- torchvision.ops pieces

def conv_norm_act(cin, cout, k, stride=1, groups=1, act=nn.ReLU, norm=nn.BatchNorm2d):
    """torchvision.ops.Conv2dNormActivation: a Sequential of 0 conv (no bias), 1 BN, 2 activation (if any)."""
    layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False), norm(cout)]
    return nn.Sequential(*layers, *([act(inplace=True)] if act else []))


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation: x * scale(fc2(act(fc1(avgpool(x)))))."""

    def __init__(self, c, squeeze, activation=nn.ReLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1, self.fc2 = nn.Conv2d(c, squeeze, 1), nn.Conv2d(squeeze, c, 1)
        self.activation, self.scale_activation = activation(), scale_activation()

    def forward(self, x):
        return self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x))))) * x


class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth, "row" mode: drops whole samples in training, the identity in eval."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = x.new_empty([x.shape[0]] + [1] * (x.ndim - 1)).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)


class Permute(nn.Module):
    """torchvision.ops.misc.Permute."""

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)


class LayerNorm2d(nn.LayerNorm):
    """torchvision.models.convnext.LayerNorm2d: LayerNorm over channels of an NCHW tensor, through channels-last."""

    def forward(self, x):
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


# ---------------------------------------------------------------- ResNet-50 bottlenecks (torchvision.models.resnet)

def resnet50():
    """The zoo's torchvision ResNet with Bottleneck blocks [1, 2, 1, 1] at width / 16, and torchvision's inplace ReLUs
    (one `relu` module called three times per block)."""
    model = ResNet(Bottleneck, [1, 2, 1, 1], classes=10, div=16)
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = True
    return model


# ---------------------------------------------------------------- VGG with BatchNorm (torchvision.models.vgg)

class VGG(nn.Module):
    """torchvision's vgg*_bn features (conv, BN, ReLU; "M" a 2x2 max pool) and a classifier after torch.flatten.
    Deviation: no AdaptiveAvgPool2d((7, 7)) (its 4x4 -> 7x7 windows do not export as one ONNX op)."""

    def __init__(self, cfg=(8, "M", 16, "M", 32, 32, "M", 32, 32, "M"), side=(4, 4), classes=10):
        super().__init__()
        layers, c = [], 3
        for v in cfg:
            layers += [nn.MaxPool2d(2, 2)] if v == "M" else [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            c = c if v == "M" else v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(c * side[0] * side[1], 32), nn.ReLU(True), nn.Dropout(), nn.Linear(32, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


# ---------------------------------------------------------------- DenseNet (torchvision.models.densenet)

class DenseLayer(nn.Module):
    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1, self.relu1 = nn.BatchNorm2d(cin), nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2, self.relu2 = nn.BatchNorm2d(bn_size * growth), nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, 1, 1, bias=False)

    def forward(self, features):
        x = torch.cat(features, 1) if isinstance(features, list) else features
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(nn.ModuleDict):
    def __init__(self, layers, cin, growth, bn_size):
        super().__init__({f"denselayer{i + 1}": DenseLayer(cin + i * growth, growth, bn_size) for i in range(layers)})

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class DenseNet(nn.Module):
    """Deviation: the ReLU after features is not inplace (torchvision's is), so a hook on features.norm5 keeps the
    value ONNX's BatchNormalization output holds."""

    def __init__(self, growth=4, blocks=(3, 3), init=8, bn_size=2, classes=10):
        super().__init__()
        f = OrderedDict(conv0=nn.Conv2d(3, init, 7, 2, 3, bias=False), norm0=nn.BatchNorm2d(init), relu0=nn.ReLU(inplace=True),
                        pool0=nn.MaxPool2d(3, 2, 1))
        c = init
        for i, n in enumerate(blocks):
            f[f"denseblock{i + 1}"] = DenseBlock(n, c, growth, bn_size)
            c += n * growth
            if i != len(blocks) - 1:
                f[f"transition{i + 1}"] = nn.Sequential(OrderedDict(
                    norm=nn.BatchNorm2d(c), relu=nn.ReLU(inplace=True), conv=nn.Conv2d(c, c // 2, 1, bias=False),
                    pool=nn.AvgPool2d(2, 2)))
                c //= 2
        f["norm5"] = nn.BatchNorm2d(c)
        self.features = nn.Sequential(f)
        self.classifier = nn.Linear(c, classes)

    def forward(self, x):
        out = F.adaptive_avg_pool2d(F.relu(self.features(x)), (1, 1))
        return self.classifier(torch.flatten(out, 1))


# ---------------------------------------------------------------- Inception v3 (torchvision.models.inception)

class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, **kw):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(cin, cout, bias=False, **kw), nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class InceptionA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 8, kernel_size=1)
        self.branch5x5_1, self.branch5x5_2 = BasicConv2d(cin, 6, kernel_size=1), BasicConv2d(6, 8, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 8, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(8, 12, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(12, 12, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x):
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))    # count_include_pad=True
        return torch.cat([self.branch1x1(x), b5, b3, bp], 1)


class InceptionB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 16, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 8, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(8, 12, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(12, 12, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin, c7):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 12, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 12, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 12, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 12, kernel_size=1)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = m(bd)
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([self.branch1x1(x), b7, bd, bp], 1)


class Inception3(nn.Module):
    """Stem, Mixed_5b (A), Mixed_6a (B, grid reduction), Mixed_6b (C, 1x7 and 7x1). Deviation: maxpool1 rounds up
    (ceil_mode, as GoogLeNet's pools do), so that ceil_mode is covered."""

    def __init__(self, classes=10):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 8, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(8, 8, kernel_size=3)
        self.maxpool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.Mixed_5b = InceptionA(8, pool_features=4)
        self.Mixed_6a = InceptionB(32)
        self.Mixed_6b = InceptionC(60, c7=8)
        self.avgpool, self.dropout, self.fc = nn.AdaptiveAvgPool2d((1, 1)), nn.Dropout(), nn.Linear(48, classes)

    def forward(self, x):
        x = self.maxpool1(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = self.Mixed_6b(self.Mixed_6a(self.Mixed_5b(x)))
        return self.fc(torch.flatten(self.dropout(self.avgpool(x)), 1))


# ---------------------------------------------------------------- MobileNetV3 (torchvision.models.mobilenetv3)

class InvertedResidualV3(nn.Module):
    def __init__(self, cin, k, exp, cout, se, act, stride):
        super().__init__()
        self.use_res_connect = stride == 1 and cin == cout
        layers = [conv_norm_act(cin, exp, 1, act=act)] if exp != cin else []
        layers.append(conv_norm_act(exp, exp, k, stride, groups=exp, act=act))
        if se:
            layers.append(SqueezeExcitation(exp, max(8, exp // 4), scale_activation=nn.Hardsigmoid))
        self.block = nn.Sequential(*layers, conv_norm_act(exp, cout, 1, act=None))

    def forward(self, x):
        result = self.block(x)
        if self.use_res_connect:
            result += x
        return result


class MobileNetV3(nn.Module):
    # (cin, kernel, expanded, cout, SE, activation, stride), as torchvision's InvertedResidualConfig
    CFG = [(8, 3, 8, 8, True, nn.ReLU, 2), (8, 3, 24, 12, False, nn.ReLU, 2), (12, 3, 36, 12, False, nn.ReLU, 1),
           (12, 5, 48, 16, True, nn.Hardswish, 2), (16, 5, 64, 16, True, nn.Hardswish, 1)]

    def __init__(self, classes=10):
        super().__init__()
        blocks = [InvertedResidualV3(*c) for c in self.CFG]
        self.features = nn.Sequential(conv_norm_act(3, 8, 3, 2, act=nn.Hardswish), *blocks,
                                      conv_norm_act(16, 96, 1, act=nn.Hardswish))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(96, 32), nn.Hardswish(inplace=True), nn.Dropout(0.2), nn.Linear(32, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ---------------------------------------------------------------- EfficientNet-B0 (torchvision.models.efficientnet)

class MBConv(nn.Module):
    def __init__(self, cin, ratio, k, stride, cout, sd_prob):
        super().__init__()
        self.use_res_connect = stride == 1 and cin == cout
        exp = cin * ratio
        layers = [conv_norm_act(cin, exp, 1, act=nn.SiLU)] if exp != cin else []
        layers += [conv_norm_act(exp, exp, k, stride, groups=exp, act=nn.SiLU),
                   SqueezeExcitation(exp, max(1, cin // 4), activation=nn.SiLU), conv_norm_act(exp, cout, 1, act=None)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(sd_prob)

    def forward(self, x):
        result = self.block(x)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += x
        return result


class EfficientNet(nn.Module):
    # stages of (expand ratio, kernel, stride, cin, cout, layers), as torchvision's MBConvConfig for B0, narrowed
    CFG = [(1, 3, 1, 8, 8, 1), (6, 3, 2, 8, 12, 2), (6, 5, 2, 12, 16, 2)]

    def __init__(self, classes=10):
        super().__init__()
        stages, n, total = [conv_norm_act(3, 8, 3, 2, act=nn.SiLU)], 0, sum(c[-1] for c in self.CFG)
        for ratio, k, stride, cin, cout, layers in self.CFG:
            stage = []
            for i in range(layers):
                stage.append(MBConv(cin if i == 0 else cout, ratio, k, stride if i == 0 else 1, cout, 0.2 * n / total))
                n += 1
            stages.append(nn.Sequential(*stage))
        self.features = nn.Sequential(*stages, conv_norm_act(16, 64, 1, act=nn.SiLU))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2, inplace=True), nn.Linear(64, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ---------------------------------------------------------------- RegNetY (torchvision.models.regnet)

class BottleneckTransform(nn.Sequential):
    def __init__(self, cin, cout, stride, group_width, se_ratio):
        layers = OrderedDict(a=conv_norm_act(cin, cout, 1), b=conv_norm_act(cout, cout, 3, stride, groups=cout // group_width))
        if se_ratio:
            layers["se"] = SqueezeExcitation(cout, int(round(se_ratio * cin)))
        layers["c"] = conv_norm_act(cout, cout, 1, act=None)
        super().__init__(layers)


class ResBottleneckBlock(nn.Module):
    def __init__(self, cin, cout, stride, group_width, se_ratio):
        super().__init__()
        self.proj = conv_norm_act(cin, cout, 1, stride, act=None) if cin != cout or stride != 1 else None
        self.f = BottleneckTransform(cin, cout, stride, group_width, se_ratio)
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.activation(self.proj(x) + self.f(x) if self.proj is not None else x + self.f(x))


class RegNet(nn.Module):
    """A RegNetY: widths (16, 32), depths (1, 2), group width 8, SE on the second stage only (SE is optional)."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = conv_norm_act(3, 16, 3, 2)
        stages, cin = [], 16
        for i, (cout, depth, se) in enumerate([(16, 1, 0.0), (32, 2, 0.25)]):
            blocks = [(f"block{i + 1}-{j}", ResBottleneckBlock(cin if j == 0 else cout, cout, 2 if j == 0 else 1, 8, se))
                      for j in range(depth)]
            stages.append((f"block{i + 1}", nn.Sequential(OrderedDict(blocks))))
            cin = cout
        self.trunk_output = nn.Sequential(OrderedDict(stages))
        self.avgpool, self.fc = nn.AdaptiveAvgPool2d((1, 1)), nn.Linear(32, classes)

    def forward(self, x):
        return self.fc(self.avgpool(self.trunk_output(self.stem(x))).flatten(start_dim=1))


# ---------------------------------------------------------------- ShuffleNetV2 (torchvision.models.shufflenetv2)

def channel_shuffle(x, groups):
    b, c, h, w = x.size()
    x = torch.transpose(x.view(b, groups, c // groups, h, w), 1, 2).contiguous()
    return x.view(b, -1, h, w)


class ShuffleBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride, bf = stride, cout // 2

        def dw(c):
            return nn.Conv2d(c, c, 3, stride, 1, groups=c, bias=False)
        self.branch1 = nn.Sequential(dw(cin), nn.BatchNorm2d(cin), nn.Conv2d(cin, bf, 1, bias=False), nn.BatchNorm2d(bf),
                                     nn.ReLU(inplace=True)) if stride > 1 else nn.Sequential()
        self.branch2 = nn.Sequential(nn.Conv2d(cin if stride > 1 else bf, bf, 1, bias=False), nn.BatchNorm2d(bf), nn.ReLU(inplace=True),
                                     dw(bf), nn.BatchNorm2d(bf), nn.Conv2d(bf, bf, 1, bias=False), nn.BatchNorm2d(bf), nn.ReLU(inplace=True))

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.stage2 = nn.Sequential(ShuffleBlock(8, 16, 2), ShuffleBlock(16, 16, 1))
        self.stage3 = nn.Sequential(ShuffleBlock(16, 32, 2), ShuffleBlock(32, 32, 1))
        self.conv5 = nn.Sequential(nn.Conv2d(32, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.stage3(self.stage2(self.maxpool(self.conv1(x))))
        return self.fc(self.conv5(x).mean([2, 3]))


# ---------------------------------------------------------------- ConvNeXt (torchvision.models.convnext)

class CNBlock(nn.Module):
    def __init__(self, dim, sd_prob):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(dim, dim, 7, padding=3, groups=dim), Permute([0, 2, 3, 1]), nn.LayerNorm(dim, eps=1e-6),
                                   nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1))
        self.stochastic_depth = StochasticDepth(sd_prob)

    def forward(self, x):
        result = self.stochastic_depth(self.layer_scale * self.block(x))
        result += x
        return result


class ConvNeXt(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Sequential(nn.Conv2d(3, 16, 4, 4), LayerNorm2d(16, eps=1e-6)),
            nn.Sequential(CNBlock(16, 0.0), CNBlock(16, 0.05)),
            nn.Sequential(LayerNorm2d(16, eps=1e-6), nn.Conv2d(16, 32, 2, 2)),
            nn.Sequential(CNBlock(32, 0.1), CNBlock(32, 0.15)))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(LayerNorm2d(32, eps=1e-6), nn.Flatten(1), nn.Linear(32, classes))

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)))


# ---------------------------------------------------------------- TF-style net with SAME padding (timm's *Same layers)

def pad_same(x, k, s, value=0.0):
    """TensorFlow's SAME padding: the total is split with the extra pixel on the bottom/right (timm's pad_same)."""
    ih, iw = x.size()[-2:]
    ph, pw = (max((math.ceil(i / s) - 1) * s + k - i, 0) for i in (ih, iw))
    return F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2], value=value)


class Conv2dSame(nn.Conv2d):
    """timm's Conv2dSame: TF SAME padding computed from the input size at each call."""

    def forward(self, x):
        x = pad_same(x, self.kernel_size[0], self.stride[0])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MaxPool2dSame(nn.MaxPool2d):
    def forward(self, x):
        return F.max_pool2d(pad_same(x, self.kernel_size, self.stride, value=-float("inf")), self.kernel_size, self.stride)


class TFBlock(nn.Module):
    """A TF MobileNet inverted residual: 1x1 expand, depthwise Conv2dSame, 1x1 project; ReLU6 throughout."""

    def __init__(self, cin, cout, k, stride, exp=3):
        super().__init__()
        self.conv_pw, self.bn1, self.act1 = nn.Conv2d(cin, cin * exp, 1, bias=False), nn.BatchNorm2d(cin * exp, eps=1e-3), nn.ReLU6()
        self.conv_dw = Conv2dSame(cin * exp, cin * exp, k, stride, groups=cin * exp, bias=False)
        self.bn2, self.act2 = nn.BatchNorm2d(cin * exp, eps=1e-3), nn.ReLU6()
        self.conv_pwl, self.bn3 = nn.Conv2d(cin * exp, cout, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-3)
        self.has_residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.bn3(self.conv_pwl(self.act2(self.bn2(self.conv_dw(self.act1(self.bn1(self.conv_pw(x))))))))
        return x + y if self.has_residual else y


class TFSameNet(nn.Module):
    """SAME padding three ways: Conv2dSame (F.pad from the input size; at 64x81 and stride 2 the pads are (0, 1) rows
    and (1, 1) columns), an explicit asymmetric nn.ZeroPad2d before a VALID conv, a SAME max pool padded with -inf,
    and a stride-1 conv with padding="same" and an even kernel; a head with x.view(x.size(0), -1)."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv_stem, self.bn1, self.act1 = Conv2dSame(3, 8, 3, 2, bias=False), nn.BatchNorm2d(8, eps=1e-3), nn.ReLU6()
        self.blocks = nn.Sequential(TFBlock(8, 8, 3, 1), TFBlock(8, 16, 5, 2), TFBlock(16, 16, 3, 1))
        self.pool = MaxPool2dSame(3, 2)
        self.pad = nn.ZeroPad2d((0, 1, 0, 1))
        self.conv_down = nn.Conv2d(16, 24, 3, 2)
        self.conv_same = nn.Conv2d(24, 24, 2, padding="same")
        self.conv_head, self.bn2, self.act2 = nn.Conv2d(24, 48, 1, bias=False), nn.BatchNorm2d(48, eps=1e-3), nn.ReLU6()
        self.classifier = nn.Linear(48, classes)

    def forward(self, x):
        x = self.blocks(self.act1(self.bn1(self.conv_stem(x))))
        x = F.relu6(self.conv_same(self.conv_down(self.pad(self.pool(x)))))
        x = self.act2(self.bn2(self.conv_head(x)))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.classifier(x.view(x.size(0), -1))


# ---------------------------------------------------------------- U-Net (segmentation), pooled to class logits

class UNet(nn.Module):
    """Encoder of conv-BN-ReLU blocks and max pools; a decoder that upsamples three ways (ConvTranspose2d with stride 2,
    output_padding and groups; bilinear interpolation, align_corners False; nearest to a skip's size) and concatenates
    the skips; an auxiliary bilinear (align_corners True) path from the bottleneck; a 1x1 conv to K channels, then the
    global mean: (1, K) logits, as a per-pixel classifier pooled to one label."""

    def __init__(self, classes=10):
        super().__init__()
        def block(cin, cout):
            return conv_norm_act(cin, cout, 3)
        self.enc1, self.enc2, self.enc3, self.bottleneck = block(3, 8), block(8, 16), block(16, 24), block(24, 32)
        self.up3 = nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.dec3, self.dec2, self.dec1 = block(16 + 24, 16), block(16 + 16, 16), block(16 + 8, 8)
        self.aux = nn.Conv2d(32, 4, 1)
        self.head = nn.Conv2d(8 + 4, classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        b = self.bottleneck(F.max_pool2d(e3, 2))
        d3 = self.dec3(torch.cat([self.up3(b), e3], 1))
        d2 = self.dec2(torch.cat([F.interpolate(d3, scale_factor=2, mode="bilinear", align_corners=False), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, size=e1.shape[-2:], mode="nearest"), e1], 1))
        aux = F.interpolate(self.aux(b), size=e1.shape[-2:], mode="bilinear", align_corners=True)
        return self.head(torch.cat([d1, aux], 1)).mean((2, 3))
