"""The seed series' GoogLeNet (WZMIAOMIAO/deep-learning-for-image-processing,
pytorch_classification/Test4_googlenet/model.py), written here from its public definition for
tests/models/: BasicConv2d is a conv with bias and a ReLU module (no BatchNorm), branch3 ends in
a 5x5 conv, branch4's max pool has no ceil_mode, maxpool4 is 3x3, dropout 0.4, and the optional
aux heads (aux1 after inception4a, aux2 after inception4d) are averagePool (5, stride 3), conv,
fc1, fc2, run in training mode only. predict.py builds GoogLeNet(num_classes=5, aux_logits=False)
and loads a training checkpoint (aux_logits=True) with strict=False. Leaves out training.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicConv2d(nn.Module):
    """The seed's BasicConv2d: `conv` (bias on), `relu`."""

    def __init__(self, cin, cout, **conv_args):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, **conv_args)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.conv(x))


class Inception(nn.Module):
    def __init__(self, cin, c1, c3_in, c3, c5_in, c5, pool_out):
        super().__init__()
        self.branch1 = BasicConv2d(cin, c1, kernel_size=1)
        self.branch2 = nn.Sequential(BasicConv2d(cin, c3_in, kernel_size=1),
                                     BasicConv2d(c3_in, c3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(cin, c5_in, kernel_size=1),
                                     BasicConv2d(c5_in, c5, kernel_size=5, padding=2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
                                     BasicConv2d(cin, pool_out, kernel_size=1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    def __init__(self, cin, num_classes):
        super().__init__()
        self.averagePool = nn.AvgPool2d(kernel_size=5, stride=3)
        self.conv = BasicConv2d(cin, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = torch.flatten(self.conv(self.averagePool(x)), 1)
        x = F.dropout(x, 0.5, training=self.training)
        x = F.dropout(F.relu(self.fc1(x), inplace=True), 0.5, training=self.training)
        return self.fc2(x)


# (name, in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj), as the paper's table.
BLOCKS = [("inception3a", 192, 64, 96, 128, 16, 32, 32),
          ("inception3b", 256, 128, 128, 192, 32, 96, 64),
          ("inception4a", 480, 192, 96, 208, 16, 48, 64),
          ("inception4b", 512, 160, 112, 224, 24, 64, 64),
          ("inception4c", 512, 128, 128, 256, 24, 64, 64),
          ("inception4d", 512, 112, 144, 288, 32, 64, 64),
          ("inception4e", 528, 256, 160, 320, 32, 128, 128),
          ("inception5a", 832, 256, 160, 320, 32, 128, 128),
          ("inception5b", 832, 384, 192, 384, 48, 128, 128)]


class GoogLeNet(nn.Module):
    def __init__(self, num_classes=1000, aux_logits=True, init_weights=False):
        super().__init__()
        self.aux_logits = aux_logits
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        for name, *widths in BLOCKS[:2]:
            setattr(self, name, Inception(*widths))
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        for name, *widths in BLOCKS[2:7]:
            setattr(self, name, Inception(*widths))
        self.maxpool4 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        for name, *widths in BLOCKS[7:]:
            setattr(self, name, Inception(*widths))
        if aux_logits:
            self.aux1 = InceptionAux(512, num_classes)
            self.aux2 = InceptionAux(528, num_classes)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(1024, num_classes)
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.training and self.aux_logits else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.training and self.aux_logits else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        if self.training and self.aux_logits:
            return x, aux2, aux1
        return x
