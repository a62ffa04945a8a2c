"""The seed series' ConvNeXt and RegNet as PyTorch modules, for make_models_convnext.py: written
here from the public definitions (WZMIAOMIAO/deep-learning-for-image-processing,
pytorch_classification/ConvNeXt/model.py -- facebookresearch/ConvNeXt's layout -- and
Test10_regnet/model.py), with their module names, parameter order and forward. Leaves out
training-only parts (drop path rates, dropout: the identity in eval mode) and the initializers
(the fixtures load their own weights).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CONVNEXT_SIZES = {  # name: (depths, dims)
    "convnext_tiny": ([3, 3, 9, 3], [96, 192, 384, 768]),
    "convnext_small": ([3, 3, 27, 3], [96, 192, 384, 768]),
    "convnext_base": ([3, 3, 27, 3], [128, 256, 512, 1024]),
    "convnext_large": ([3, 3, 27, 3], [192, 384, 768, 1536]),
    "convnext_xlarge": ([3, 3, 27, 3], [256, 512, 1024, 2048]),
}


class ChannelNorm(nn.Module):
    """The official LayerNorm: over the last dim ("channels_last") or over dim 1 of [N, C, H, W]
    ("channels_first", written out as mean and biased variance)."""

    def __init__(self, dim, channels_first=False, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps, self.channels_first, self.dim = eps, channels_first, dim

    def forward(self, x):
        if not self.channels_first:
            return F.layer_norm(x, (self.dim,), self.weight, self.bias, self.eps)
        mu = x.mean(1, keepdim=True)
        var = (x - mu).square().mean(1, keepdim=True)
        x = (x - mu) / (var + self.eps).sqrt()
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class NeXtBlock(nn.Module):
    """dwconv 7x7 -> [N, H, W, C] -> norm -> pwconv1 -> GELU -> pwconv2 -> gamma * x -> back,
    plus the input (drop_path the identity in eval)."""

    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = ChannelNorm(dim)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))
        self.drop_path = nn.Identity()

    def forward(self, x):
        y = self.pwconv2(self.act(self.pwconv1(self.norm(self.dwconv(x).permute(0, 2, 3, 1)))))
        return x + self.drop_path((self.gamma * y).permute(0, 3, 1, 2))


class OfficialConvNeXt(nn.Module):
    """downsample_layers (the 4x4 stem, then LayerNorm + 2x2 conv), stages of blocks, `norm`
    over the pooled features, `head`."""

    def __init__(self, depths, dims, num_classes):
        super().__init__()
        self.downsample_layers = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(3, dims[0], 4, stride=4), ChannelNorm(dims[0], True))])
        for i in range(3):
            self.downsample_layers.append(nn.Sequential(
                ChannelNorm(dims[i], True), nn.Conv2d(dims[i], dims[i + 1], 2, stride=2)))
        self.stages = nn.ModuleList(
            [nn.Sequential(*[NeXtBlock(dims[i]) for _ in range(depths[i])]) for i in range(4)])
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_classes)

    def forward(self, x):
        for down, stage in zip(self.downsample_layers, self.stages):
            x = stage(down(x))
        return self.head(self.norm(x.mean([-2, -1])))


def official_convnext(name, num_classes):
    depths, dims = CONVNEXT_SIZES[name]
    return OfficialConvNeXt(depths, dims, num_classes)


# Test10_regnet's model_cfgs: (w0, wa, wm, group width, depth, SE ratio).
REGNET_SIZES = {
    "regnetx_200mf": (24, 36.44, 2.49, 8, 13, 0), "regnetx_400mf": (24, 24.48, 2.54, 16, 22, 0),
    "regnetx_600mf": (48, 36.97, 2.24, 24, 16, 0), "regnetx_800mf": (56, 35.73, 2.28, 16, 16, 0),
    "regnetx_1.6gf": (80, 34.01, 2.25, 24, 18, 0), "regnetx_3.2gf": (88, 26.31, 2.25, 48, 25, 0),
    "regnetx_4.0gf": (96, 38.65, 2.43, 40, 23, 0), "regnetx_6.4gf": (184, 60.83, 2.07, 56, 17, 0),
    "regnetx_8.0gf": (80, 49.56, 2.88, 120, 23, 0), "regnetx_12gf": (168, 73.36, 2.37, 112, 19, 0),
    "regnetx_16gf": (216, 55.59, 2.1, 128, 22, 0), "regnetx_32gf": (320, 69.86, 2.0, 168, 23, 0),
    "regnety_200mf": (24, 36.44, 2.49, 8, 13, .25), "regnety_400mf": (48, 27.89, 2.09, 8, 16, .25),
    "regnety_600mf": (48, 32.54, 2.32, 16, 15, .25), "regnety_800mf": (56, 38.84, 2.4, 16, 14, .25),
    "regnety_1.6gf": (48, 20.71, 2.65, 24, 27, .25),
    "regnety_3.2gf": (80, 42.63, 2.66, 24, 21, .25),
    "regnety_4.0gf": (96, 31.41, 2.24, 64, 22, .25),
    "regnety_6.4gf": (112, 33.22, 2.27, 72, 25, .25),
    "regnety_8.0gf": (192, 76.82, 2.19, 56, 17, .25),
    "regnety_12gf": (168, 73.36, 2.37, 112, 19, .25),
    "regnety_16gf": (200, 106.23, 2.48, 112, 18, .25),
    "regnety_32gf": (232, 115.89, 2.53, 232, 20, .25),
}


def regnet_stages(w0, wa, wm, group, depth):
    """[(depth, width, group width)] per stage: pycls's quantized linear widths, each stage's
    width rounded to a multiple of its group width (the group width at most the width)."""
    linear = np.arange(depth) * wa + w0
    exps = np.round(np.log(linear / w0) / np.log(wm))
    widths = (np.round(w0 * np.power(wm, exps) / 8) * 8).astype(int)
    values, counts = np.unique(widths, return_counts=True)
    out = []
    for w, d in zip(values.tolist(), counts.tolist()):
        g = min(group, w)
        out.append((d, int(round(w / g) * g), g))
    return out


class ConvBNAct(nn.Module):
    def __init__(self, cin, cout, k=1, stride=1, groups=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.ReLU(inplace=True) if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class SE(nn.Module):
    def __init__(self, block_in, width, ratio):
        super().__init__()
        squeeze = int(block_in * ratio)
        self.fc1 = nn.Conv2d(width, squeeze, 1)
        self.ac1 = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(squeeze, width, 1)
        self.ac2 = nn.Sigmoid()

    def forward(self, x):
        return x * self.ac2(self.fc2(self.ac1(self.fc1(x.mean((2, 3), keepdim=True)))))


class RegBottleneck(nn.Module):
    def __init__(self, cin, cout, stride, group, se_ratio):
        super().__init__()
        self.conv1 = ConvBNAct(cin, cout)
        self.conv2 = ConvBNAct(cout, cout, 3, stride, cout // group)
        self.se = SE(cin, cout, se_ratio) if se_ratio > 0 else nn.Identity()
        self.conv3 = ConvBNAct(cout, cout, act=False)
        self.ac3 = nn.ReLU(inplace=True)
        self.dropout = nn.Identity()
        needs = cin != cout or stride != 1
        self.downsample = ConvBNAct(cin, cout, 1, stride, act=False) if needs else nn.Identity()

    def forward(self, x):
        y = self.dropout(self.conv3(self.se(self.conv2(self.conv1(x)))))
        return self.ac3(y + self.downsample(x))


class RegHead(nn.Module):
    def __init__(self, cin, num_classes):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        return self.fc(self.dropout(torch.flatten(self.pool(x), 1)))


class SeedRegNet(nn.Module):
    """stem, s1..s4 of blocks b1, b2, ... (stride 2 in each first block), head."""

    def __init__(self, name, num_classes):
        super().__init__()
        w0, wa, wm, group, depth, se = REGNET_SIZES[name]
        self.stem = ConvBNAct(3, 32, 3, 2)
        cin = 32
        for s, (d, w, g) in enumerate(regnet_stages(w0, wa, wm, group, depth)):
            stage = nn.Sequential()
            for b in range(d):
                stage.add_module(f"b{b + 1}", RegBottleneck(cin if b == 0 else w, w,
                                                            2 if b == 0 else 1, g, se))
            self.add_module(f"s{s + 1}", stage)
            cin = w
        self.head = RegHead(cin, num_classes)

    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x
