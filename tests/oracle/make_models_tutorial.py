"""Fixtures for tests/models/ (issue 14 part 3): the tutorial nets, as their public definitions
write them (the classes below are written here from those definitions, same module names and
forward passes):
- the PyTorch 60-minute blitz CNN (pytorch/tutorials beginner_source/blitz/cifar10_tutorial.py);
- the seed series' LeNet (its "official demo": conv 3->16 k5, pool1, 16->32 k5, pool2, fc 800->
  120->84->10, F.relu after each but the last);
- pytorch/examples' MNIST Net (mnist/main.py: 1x28x28, dropout1/dropout2, log_softmax);
- akamaster/pytorch_resnet_cifar10's CIFAR ResNets (resnet.py: option A LambdaLayer shortcuts,
  `linear`, _weights_init kaiming_normal_), ResNet-20 here and ResNet-32 for the shapes.

Random init (the classes' own), float16-rounded weights, non-trivial BN statistics. Files:
models_tutorial_NAME.safetensors (state_dict), models_tutorial_NAME.expected.safetensors (input,
logits = forward's output, the taps' outputs caught by forward hooks) and
models_tutorial_manifest.json (arch, family, classes, params, named_modules() with class names,
leaf reprs, every module's output shape), as make_models_classic.py writes them. Also
models_tutorial_shapes.json: the state_dict names and shapes of every --arch's class.
"""
import collections
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import half_rounded, run_with_hooks, save_safetensors  # noqa: E402
import seed_models  # noqa: E402


class BlitzNet(nn.Module):
    def __init__(self, num_classes=10, in_channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class LeNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 5)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.pool2 = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(32 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = x.view(-1, 32 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class MnistNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


def weights_init(m):
    if isinstance(m, (nn.Linear, nn.Conv2d)):
        init.kaiming_normal_(m.weight)


class LambdaLayer(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            pad = planes // 4
            self.shortcut = LambdaLayer(
                lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, pad, pad), "constant", 0))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class CifarResNet(nn.Module):
    def __init__(self, n, num_classes=10):
        super().__init__()
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(16, n, 1)
        self.layer2 = self._make_layer(32, n, 2)
        self.layer3 = self._make_layer(64, n, 2)
        self.linear = nn.Linear(64, num_classes)
        self.apply(weights_init)

    def _make_layer(self, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size()[3])
        return self.linear(out.view(out.size(0), -1))


out = sys.argv[1]
torch.manual_seed(0)
gen = torch.Generator().manual_seed(1414)

# name: (make model, expected arch, family, num_classes, input [C, H, W], taps)
MODELS = collections.OrderedDict([
    ("lenet_blitz", (lambda n: BlitzNet(n), "lenet_blitz", "lenet", 10, [3, 32, 32],
                     ["conv1", "pool", "conv2", "fc1", "fc3"])),
    ("lenet_seed", (lambda n: LeNet(n), "lenet_seed", "lenet", 7, [3, 32, 32],
                    ["conv1", "pool1", "conv2", "pool2", "fc2"])),
    ("mnist_net", (lambda n: MnistNet(n), "mnist_net", "mnist_net", 10, [1, 28, 28],
                   ["conv1", "conv2", "dropout1", "fc1", "fc2"])),
    ("resnet20_cifar", (lambda n: CifarResNet(3, n), "resnet20_cifar", "cifar_resnet", 10,
                        [3, 32, 32],
                        ["conv1", "bn1", "layer1.0.bn2", "layer1.2", "layer2.0.shortcut",
                         "layer2.0", "layer3.2.conv2", "layer3", "linear"])),
])

manifest = collections.OrderedDict()
for name, (make, arch, family, num_classes, shape, taps) in MODELS.items():
    model = seed_models.randomize_bn(make(num_classes), gen)
    half_rounded(model)
    model.eval()
    sd = collections.OrderedDict(
        (k, v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items())
    save_safetensors(sd, os.path.join(out, f"models_tutorial_{name}.safetensors"))
    x = torch.randn([2] + shape, generator=gen)
    logits, got, shapes = run_with_hooks(model, taps, x)
    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    save_safetensors(expected, os.path.join(out, f"models_tutorial_{name}.expected.safetensors"))
    manifest[name] = {
        "arch": arch, "family": family, "num_classes": num_classes, "input": shape,
        "params": sum(p.numel() for p in model.parameters()),
        "modules": [[n, type(m).__name__] for n, m in model.named_modules() if n],
        "reprs": {n: repr(m) for n, m in model.named_modules() if n and not list(m.children())},
        "shapes": shapes,
    }

shapes = collections.OrderedDict()
for arch, make in [("lenet_blitz", lambda: BlitzNet(17)), ("lenet_seed", lambda: LeNet(17)),
                   ("mnist_net", lambda: MnistNet(17))] + [
        (f"resnet{6 * n + 2}_cifar", lambda n=n: CifarResNet(n, 17)) for n in (3, 5, 7, 9, 18)]:
    with torch.device("meta"):
        model = make()
    shapes[arch] = [[k, list(v.shape)] for k, v in model.state_dict().items()]

for name, doc in (("models_tutorial_shapes.json", shapes),
                  ("models_tutorial_manifest.json", manifest)):
    tmp = os.path.join(out, name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=None if name.endswith("shapes.json") else 1)
    os.replace(tmp, os.path.join(out, name))
