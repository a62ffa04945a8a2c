"""The seed series' EfficientNet and EfficientNetV2 as the oracle, written for cnnscope's tests
from the public definitions in WZMIAOMIAO/deep-learning-for-image-processing
(pytorch_classification/Test9_efficientNet/model.py and Test11_efficientnetV2/model.py): the same
module names, shapes and computation in eval mode, built as their predict.py files build them
(`efficientnet_b0(num_classes=5)`, `efficientnetv2_s(num_classes=5)`).

Leaves out training behaviour (drop path and dropout are kept as modules but are the identity in
eval mode) and the weight init (cnnscope's `init` is tested for names and shapes only).
"""
import collections
import functools
import math

import torch
import torch.nn as nn


def divisible(value, divisor=8):
    """The nearest multiple of `divisor` (at least `divisor`), never more than 10% below."""
    out = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * value else out


class DropPath(nn.Module):
    """Stochastic depth: the identity in eval mode."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        return x


def conv_bn_act_seq(cin, cout, kernel, stride=1, groups=1, act=True):
    """Test9's ConvBNActivation: a Sequential of conv, BN (eps 1e-3), SiLU or Identity."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1),
        nn.SiLU() if act else nn.Identity())


class Squeeze(nn.Module):
    """Both files' squeeze-excitation; `names` are its four children's names."""

    def __init__(self, block_in, channels, names):
        super().__init__()
        squeeze = block_in // 4
        self.names = names
        for name, module in zip(names, (nn.Conv2d(channels, squeeze, 1), nn.SiLU(),
                                        nn.Conv2d(squeeze, channels, 1), nn.Sigmoid())):
            self.add_module(name, module)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        for name in self.names:
            s = getattr(self, name)(s)
        return s * x


class Test9Block(nn.Module):
    """Test9's InvertedResidual: `block` (expand_conv, dwconv, se, project_conv), `dropout`."""

    def __init__(self, kernel, cin, cout, expand, stride, drop):
        super().__init__()
        mid = cin * expand
        self.residual = stride == 1 and cin == cout
        parts = collections.OrderedDict()
        if mid != cin:
            parts["expand_conv"] = conv_bn_act_seq(cin, mid, 1)
        parts["dwconv"] = conv_bn_act_seq(mid, mid, kernel, stride, mid)
        parts["se"] = Squeeze(cin, mid, ["fc1", "ac1", "fc2", "ac2"])
        parts["project_conv"] = conv_bn_act_seq(mid, cout, 1, act=False)
        self.block = nn.Sequential(parts)
        self.dropout = DropPath(drop) if self.residual and drop > 0 else nn.Identity()

    def forward(self, x):
        out = self.dropout(self.block(x))
        return out + x if self.residual else out


# kernel, in, out, expand, stride, repeats of EfficientNet-B0
TEST9_STAGES = [(3, 32, 16, 1, 1, 1), (3, 16, 24, 6, 2, 2), (5, 24, 40, 6, 2, 2),
                (3, 40, 80, 6, 2, 3), (5, 80, 112, 6, 1, 3), (5, 112, 192, 6, 2, 4),
                (3, 192, 320, 6, 1, 1)]
TEST9_SIZES = {"b0": (1.0, 1.0, 0.2), "b1": (1.0, 1.1, 0.2), "b2": (1.1, 1.2, 0.3),
               "b3": (1.2, 1.4, 0.3), "b4": (1.4, 1.8, 0.4), "b5": (1.6, 2.2, 0.4),
               "b6": (1.8, 2.6, 0.5), "b7": (2.0, 3.1, 0.5)}


class EfficientNet(nn.Module):
    """Test9's EfficientNet: features (stem_conv, 1a, 2a, 2b, ..., top), avgpool, classifier."""

    def __init__(self, size, num_classes):
        super().__init__()
        width, depth, dropout = TEST9_SIZES[size]
        repeats = [int(math.ceil(depth * s[-1])) for s in TEST9_STAGES]
        total, done = float(sum(repeats)), 0
        layers = collections.OrderedDict(
            stem_conv=conv_bn_act_seq(3, divisible(32 * width), 3, 2))
        for stage, ((kernel, cin, cout, expand, stride, _), n) in enumerate(
                zip(TEST9_STAGES, repeats)):
            cin, cout = divisible(cin * width), divisible(cout * width)
            for i in range(n):
                layers[f"{stage + 1}{chr(ord('a') + i)}"] = Test9Block(
                    kernel, cin if i == 0 else cout, cout, expand, stride if i == 0 else 1,
                    0.2 * done / total)
                done += 1
        head = divisible(1280 * width)
        layers["top"] = conv_bn_act_seq(divisible(320 * width), head, 1)
        self.features = nn.Sequential(layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout, inplace=True),
                                        nn.Linear(head, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class ConvBNAct(nn.Module):
    """Test11's ConvBNAct: conv, bn (eps 1e-3), act (SiLU or Identity)."""

    def __init__(self, cin, cout, kernel, stride=1, groups=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups,
                              bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Test11Block(nn.Module):
    """Test11's FusedMBConv (`fused`) and MBConv; `dropout` only where the input is added and
    the drop rate is above 0."""

    def __init__(self, fused, kernel, cin, cout, expand, stride, drop):
        super().__init__()
        mid = cin * expand
        self.residual = stride == 1 and cin == cout
        if fused and expand == 1:
            self.project_conv = ConvBNAct(cin, cout, kernel, stride)
        elif fused:
            self.expand_conv = ConvBNAct(cin, mid, kernel, stride)
            self.project_conv = ConvBNAct(mid, cout, 1, act=False)
        else:
            self.expand_conv = ConvBNAct(cin, mid, 1)
            self.dwconv = ConvBNAct(mid, mid, kernel, stride, mid)
            self.se = Squeeze(cin, mid, ["conv_reduce", "act1", "conv_expand", "act2"])
            self.project_conv = ConvBNAct(mid, cout, 1, act=False)
        if self.residual and drop > 0:
            self.dropout = DropPath(drop)

    def forward(self, x):
        out = x
        for name in ("expand_conv", "dwconv", "se", "project_conv"):
            if hasattr(self, name):
                out = getattr(self, name)(out)
        if self.residual:
            if hasattr(self, "dropout"):
                out = self.dropout(out)
            out = out + x
        return out


# repeats, kernel, stride, expand, in, out, fused
TEST11_SIZES = {
    "s": ([(2, 3, 1, 1, 24, 24, 1), (4, 3, 2, 4, 24, 48, 1), (4, 3, 2, 4, 48, 64, 1),
           (6, 3, 2, 4, 64, 128, 0), (9, 3, 1, 6, 128, 160, 0), (15, 3, 2, 6, 160, 256, 0)], 0.2),
    "m": ([(3, 3, 1, 1, 24, 24, 1), (5, 3, 2, 4, 24, 48, 1), (5, 3, 2, 4, 48, 80, 1),
           (7, 3, 2, 4, 80, 160, 0), (14, 3, 1, 6, 160, 176, 0), (18, 3, 2, 6, 176, 304, 0),
           (5, 3, 1, 6, 304, 512, 0)], 0.3),
    "l": ([(4, 3, 1, 1, 32, 32, 1), (7, 3, 2, 4, 32, 64, 1), (7, 3, 2, 4, 64, 96, 1),
           (10, 3, 2, 4, 96, 192, 0), (19, 3, 1, 6, 192, 224, 0), (25, 3, 2, 6, 224, 384, 0),
           (7, 3, 1, 6, 384, 640, 0)], 0.4),
}


class EfficientNetV2(nn.Module):
    """Test11's EfficientNetV2: stem, one flat `blocks`, head (project_conv, avgpool, flatten,
    dropout, classifier)."""

    def __init__(self, size, num_classes):
        super().__init__()
        stages, dropout = TEST11_SIZES[size]
        self.stem = ConvBNAct(3, stages[0][4], 3, 2)
        total, done, blocks = sum(s[0] for s in stages), 0, []
        for repeats, kernel, stride, expand, cin, cout, fused in stages:
            for i in range(repeats):
                blocks.append(Test11Block(fused, kernel, cin if i == 0 else cout, cout, expand,
                                          stride if i == 0 else 1, 0.2 * done / total))
                done += 1
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(collections.OrderedDict(
            project_conv=ConvBNAct(stages[-1][5], 1280, 1), avgpool=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(), dropout=nn.Dropout(dropout, inplace=True),
            classifier=nn.Linear(1280, num_classes)))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


# The model.py builders predict.py calls: efficientnet_b0(num_classes=5) ... efficientnet_b7,
# efficientnetv2_s(num_classes=5) ... efficientnetv2_l.
for _size in TEST9_SIZES:
    globals()[f"efficientnet_{_size}"] = functools.partial(EfficientNet, _size)
for _size in TEST11_SIZES:
    globals()[f"efficientnetv2_{_size}"] = functools.partial(EfficientNetV2, _size)
