"""Helpers shared by the oracle scripts: a dependency-free safetensors writer and seeded RNG.

Only torch and numpy are assumed (the `safetensors` package is not part of the oracle, so the
writer is independent of the reader libraries it checks).
"""
import json
import os
import struct

import torch

SAFETENSORS_CODES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def save_safetensors(tensors, path, metadata=None):
    """Writes an ordered dict of tensors as safetensors (header padded with spaces to 8 bytes)."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": SAFETENSORS_CODES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def fixture_path(out_dir, name):
    return os.path.join(out_dir, name)


def half_rounded(model):
    """Rounds float weights and buffers to float16 values (kept float32), so a state_dict stored as
    float16 stays small and both sides compute with equal values."""
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())


def run_with_hooks(model, taps, x):
    """Logits, the cloned outputs of `taps` (forward hooks, last call wins) and every module's
    output shape (None for a module that never runs)."""
    got, shapes, handles = {}, {}, []
    for name, m in model.named_modules():
        if not name:
            continue

        def hook(m, i, o, name=name):
            shapes[name] = list(o.shape)
            if name in taps:
                got[name] = o.detach().clone()
        handles.append(m.register_forward_hook(hook))
    with torch.no_grad():
        logits = model(x)
    for h in handles:
        h.remove()
    return logits, got, {n: shapes.get(n) for n, _ in model.named_modules() if n}


def tiny_vgg11_bn(num_classes=3):
    """torchvision's VGG11-BN at 1/8 width (features 8..64 channels, classifier 64 wide): small
    enough for tests, still detected as vgg11_bn from its keys."""
    import torch.nn as nn
    from torchvision.models.vgg import VGG, cfgs, make_layers
    m = VGG(make_layers([v if v == "M" else v // 8 for v in cfgs["A"]], batch_norm=True),
            num_classes=num_classes)
    m.classifier[0] = nn.Linear(64 * 7 * 7, 64)
    m.classifier[3] = nn.Linear(64, 64)
    m.classifier[6] = nn.Linear(64, num_classes)
    return m


def preset_transforms():
    """torchvision's pipelines of cnnscope's two main presets: "alexnet" (the seed's) and
    "imagenet" (IMAGENET1K_V1's)."""
    from torchvision import transforms
    return {
        "alexnet": transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                                       transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]),
        "imagenet": transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                                        transforms.ToTensor(),
                                        transforms.Normalize([0.485, 0.456, 0.406],
                                                             [0.229, 0.224, 0.225])]),
    }
