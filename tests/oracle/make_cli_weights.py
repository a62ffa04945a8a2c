"""Fixtures for tests/cli/test_weights.py and test_filters.py, written with torch.save:
  cli_weights_alexnet.pth   the seed's AlexNet (num_classes=5, its own init)
  cli_weights_edge.pth      one-element, constant, NaN/Inf, integer, fp16/bf16 tensors and a BN counter
  cli_weights_noconv.pth    linear layers only (no 4-D weight)
The tests compute numpy's figures themselves from these files' tensors (torch.load in the test).
"""
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from seed_models import AlexNet  # noqa: E402


def save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main(out):
    torch.manual_seed(0)
    save(AlexNet(num_classes=5, init_weights=True).state_dict(), os.path.join(out, "cli_weights_alexnet.pth"))
    g = torch.Generator().manual_seed(7)
    edge = collections.OrderedDict()
    edge["conv.weight"] = torch.randn(8, 4, 3, 3, generator=g)
    edge["bn.weight"] = torch.full((8,), 1.0)
    edge["bn.running_mean"] = torch.randn(8, generator=g)
    edge["bn.num_batches_tracked"] = torch.tensor(12)
    edge["scale"] = torch.tensor([0.75])
    edge["noisy"] = torch.tensor([1.0, float("nan"), 3.0, float("inf"), -1.0])
    edge["half"] = (torch.randn(100, generator=g)).half()
    edge["brain"] = (torch.randn(100, generator=g)).bfloat16()
    edge["steps"] = torch.arange(10, dtype=torch.int64)
    save(edge, os.path.join(out, "cli_weights_edge.pth"))
    save(collections.OrderedDict([("fc.weight", torch.randn(3, 4, generator=g)),
                                  ("fc.bias", torch.zeros(3))]), os.path.join(out, "cli_weights_noconv.pth"))


if __name__ == "__main__":
    main(sys.argv[1])
