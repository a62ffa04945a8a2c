"""Fixtures for tests/models/test_own_model_cli.py: a state_dict of a user's own
class, as a new user saves it, which no family matches, so cnnscope must answer with what its keys
look like and how to export it.

Files: models_own_state_dict.pth (`torch.save(model.state_dict(), ...)` of a small grayscale CNN
written as people write them: Sequential blocks, functional ReLU, flatten, a `head`).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

out = sys.argv[1]
torch.manual_seed(25)


class MyCNN(nn.Module):
    """A user's class: 1x28x28 in, 10 classes out."""

    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                    nn.MaxPool2d(2))
        self.block2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16),
                                    nn.MaxPool2d(2))
        self.head = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = F.relu(self.block2(self.block1(x)))
        return self.head(torch.flatten(x, 1))


torch.save(MyCNN().eval().state_dict(), os.path.join(out, "models_own_state_dict.pth"))
