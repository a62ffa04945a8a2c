"""Fixtures for tests/train (fixture oracle_train): small ImageFolder trees and PyTorch's own
training steps to compare `cnnscope train` with.

- train_parity/{train,val}/<class>/*.png: 3 classes of 64x64 noise photos (6 + 2 each), and
  train_parity_init.pth: torchvision's resnet18(num_classes=3) state_dict (seed 0).
- For sgd (momentum 0.9, weight decay 5e-4, lr 0.01) and adam (lr 2e-4, weight decay 1e-4):
  train_ref_<opt>_step1.pth: the model after one step on the first batch (no shuffle, the
  validation transform Resize((64, 64)), ToTensor, Normalize(ImageNet)), as torch.optim takes it;
  train_ref_<opt>_last.pth: PyTorch's training checkpoint after that step ({"epoch": 1,
  "model_state_dict", "optimizer_state_dict", "best_val_acc"});
  train_ref_<opt>_step2.pth: the model after a second step on the same first batch.
- train_learn/{train,val}/<class>: 3 colour classes of 32x32 noisy photos (a learnable set).
- train_bad_empty/{train,val}: a class folder without images; train_bad_noval: a class missing
  from val.
Spec: the seed series' train.py (ImageFolder, CrossEntropyLoss, optim.Adam), torchvision 0.29.
"""
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms

OUT = sys.argv[1] if len(sys.argv) > 1 else "build/fixtures"
CLASSES = ["cat", "dog", "fox"]
BATCH = 8
OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=5e-4),
    "adam": lambda p: torch.optim.Adam(p, lr=2e-4, weight_decay=1e-4),
}


def write_tree(root, counts, size, pixels):
    for split, n in counts.items():
        for c, name in enumerate(CLASSES):
            os.makedirs(os.path.join(root, split, name), exist_ok=True)
            for i in range(n):
                Image.fromarray(pixels(c, i)).save(os.path.join(root, split, name, f"{i:03d}.png"))


def first_batch(root):
    tf = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    data = torchvision.datasets.ImageFolder(os.path.join(root, "train"), transform=tf)
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, shuffle=False)
    return next(iter(loader))


def step(model, opt, x, y):
    model.train()
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()


def main():
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    parity = os.path.join(OUT, "train_parity")
    write_tree(parity, {"train": 6, "val": 2}, 64,
               lambda c, i: rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    torch.manual_seed(0)
    init = torchvision.models.resnet18(num_classes=len(CLASSES)).state_dict()
    torch.save(init, os.path.join(OUT, "train_parity_init.pth"))
    x, y = first_batch(parity)
    for name, make in OPTIMIZERS.items():
        model = torchvision.models.resnet18(num_classes=len(CLASSES))
        model.load_state_dict(init)
        opt = make(model.parameters())
        step(model, opt, x, y)
        torch.save(model.state_dict(), os.path.join(OUT, f"train_ref_{name}_step1.pth"))
        torch.save({"epoch": 1, "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": opt.state_dict(), "best_val_acc": 0.5},
                   os.path.join(OUT, f"train_ref_{name}_last.pth"))
        step(model, opt, x, y)
        torch.save(model.state_dict(), os.path.join(OUT, f"train_ref_{name}_step2.pth"))

    colours = np.array([[200, 40, 40], [40, 200, 40], [40, 40, 200]])

    def coloured(c, i):
        noise = rng.integers(-60, 61, (32, 32, 3))
        return np.clip(colours[c] + noise, 0, 255).astype(np.uint8)

    write_tree(os.path.join(OUT, "train_learn"), {"train": 40, "val": 10}, 32, coloured)
    empty = os.path.join(OUT, "train_bad_empty")
    write_tree(empty, {"train": 2, "val": 1}, 16,
               lambda c, i: rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    for f in os.listdir(os.path.join(empty, "train", "dog")):
        os.remove(os.path.join(empty, "train", "dog", f))
    noval = os.path.join(OUT, "train_bad_noval")
    write_tree(noval, {"train": 2, "val": 1}, 16,
               lambda c, i: rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    for f in os.listdir(os.path.join(noval, "val", "fox")):
        os.remove(os.path.join(noval, "val", "fox", f))
    os.rmdir(os.path.join(noval, "val", "fox"))


if __name__ == "__main__":
    main()
