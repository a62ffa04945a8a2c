"""Fixtures for tests/explain/test_explain_oracle.py: small random-init networks (ResNet18 at 64x64,
a 1/8-width VGG11 at 64x64, the seed's AlexNet at 224x224, MobileNetV2 and DenseNet121 at 64x64),
a seeded random input each (.npy, normalized [3, H, W]) and what the PyPI libraries compute for
them: pytorch-grad-cam 1.5.7 (gradcam, gradcam++, xgradcam, hirescam, layercam, eigencam at the
family's default CAM layer: `grayscale_cam[0]` and the map at the layer's resolution after the
ReLU; eigencam also with the SVD's other sign) and Captum 0.9.0 (saliency, guided backprop,
integrated gradients with its convergence delta, NoiseTunnel smoothgrad over saliency), for the
top-1 class and one other class. Indexed by explain/expected.json. Leaves out: several CAM layers, eigen_smooth, augmentation smoothing.

Usage: make_explain_oracle.py OUT_DIR  (writes OUT_DIR/explain/..., each file atomically)
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from captum.attr import GuidedBackprop, IntegratedGradients, NoiseTunnel, Saliency
from pytorch_grad_cam import (EigenCAM, GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM,
                              XGradCAM)
from pytorch_grad_cam.utils.image import scale_cam_image
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection
from torchvision.models.vgg import VGG, cfgs, make_layers

sys.path.insert(0, os.path.dirname(__file__))
import seed_models  # noqa: E402

CAMS = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "xgradcam": XGradCAM,
        "hirescam": HiResCAM, "layercam": LayerCAM, "eigencam": EigenCAM}
IG_STEPS = 20
SMOOTH_SAMPLES = 64
SMOOTH_NOISE = 0.15

out = os.path.join(sys.argv[1], "explain")
os.makedirs(out, exist_ok=True)


def save_npy(name, array):
    tmp = os.path.join(out, name + ".tmp.npy")
    np.save(tmp, np.ascontiguousarray(array, dtype=np.float32))
    os.replace(tmp, os.path.join(out, name))
    return name


def save_pth(model, name):
    tmp = os.path.join(out, name + ".tmp")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, os.path.join(out, name))
    return name


def tiny_vgg11():
    m = VGG(make_layers([v if v == "M" else v // 8 for v in cfgs["A"]]), num_classes=10)
    m.classifier[0] = nn.Linear(64 * 7 * 7, 64)
    m.classifier[3] = nn.Linear(64, 64)
    m.classifier[6] = nn.Linear(64, 10)
    return m


def randomize_bn(model, gen):
    """Non-trivial BN statistics, so eval-mode BN is not the identity."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)


def no_inplace(model):
    """Captum's guided backprop hooks ReLU modules; in-place ReLUs break its backward hooks. The
    math is the same."""
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    return model


# name, model, input size, the CAM layer tested, cnnscope's default CAM layer. DenseNet's default
# (features.norm5, as pytorch-grad-cam's README suggests) is followed by torchvision's in-place
# F.relu, which rewrites the activations pytorch-grad-cam keeps (a detached alias) but not
# cnnscope's tap (the module's output as returned): its maps are compared at features.denseblock4.
torch.manual_seed(0)
gen = torch.Generator().manual_seed(7)
CASES = []
m = torchvision.models.resnet18(num_classes=10)
randomize_bn(m, gen)
CASES.append(("resnet18", m, 64, "layer4.1", "layer4.1"))
CASES.append(("vgg11", tiny_vgg11(), 64, "features.20", "features.20"))
CASES.append(("alexnet_seed", seed_models.AlexNet(num_classes=5, init_weights=True), 224,
              "features.12", "features.12"))
m = torchvision.models.mobilenet_v2(num_classes=10)
randomize_bn(m, gen)
CASES.append(("mobilenet_v2", m, 64, "features.18", "features.18"))
m = torchvision.models.densenet121(num_classes=10)
randomize_bn(m, gen)
CASES.append(("densenet121", m, 64, "features.denseblock4", "features.norm5"))


def cam_maps(cls, model, layer, x, target):
    """grayscale_cam[0] and the map at the layer's resolution after the ReLU."""
    with cls(model=model, target_layers=[layer]) as cam:
        full = cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0]
        acts = cam.activations_and_grads.activations[0].numpy()
        grads = (cam.activations_and_grads.gradients[0].numpy()
                 if cam.activations_and_grads.gradients else None)
        small = np.maximum(cam.get_cam_image(x, layer, None, acts, grads, False), 0)[0]
    return full, small


def flipped_eigencam(model, layer, x):
    """EigenCAM with the other sign of the first right singular vector (the SVD's sign is
    arbitrary: numpy's LAPACK and LibTorch's may differ), through pytorch-grad-cam's own steps."""
    with EigenCAM(model=model, target_layers=[layer]) as cam:
        cam(input_tensor=x, targets=None)
        acts = cam.activations_and_grads.activations[0].numpy()
    small = np.maximum(-get_2d_projection(acts), 0)
    full = scale_cam_image(small, (x.shape[-1], x.shape[-2]))
    full = scale_cam_image(np.maximum(full[:, None], 0).mean(axis=1))
    return full[0], small[0]


expected = []
for name, model, size, layer_name, default_layer in CASES:
    model = no_inplace(model.eval())
    ckpt = save_pth(model, name + ".pth")
    x = torch.randn(1, 3, size, size, generator=gen)
    image = save_npy(name + "_input.npy", x[0].numpy())
    with torch.no_grad():
        logits = model(x)[0]
        logits0 = model(torch.zeros_like(x))[0]
    top1 = int(logits.argmax())
    other = int(logits.argsort()[0])  # the lowest class: a target other than the top-1
    layer = dict(model.named_modules())[layer_name]
    case = {"name": name, "checkpoint": ckpt, "image": image, "layer": layer_name,
            "default_layer": default_layer, "targets": []}
    for target, tag in ((top1, "top1"), (other, "other")):
        t = {"class": target, "tag": tag, "methods": {}}
        for method, cls in CAMS.items():
            full, small = cam_maps(cls, model, layer, x, target)
            stem = f"{name}_{tag}_{method}"
            t["methods"][method] = {"map": save_npy(stem + ".npy", full),
                                    "layer_map": save_npy(stem + "_layer.npy", small)}
        full, small = flipped_eigencam(model, layer, x)
        stem = f"{name}_{tag}_eigencam_flipped"
        t["methods"]["eigencam"].update(map_flipped=save_npy(stem + ".npy", full),
                                        layer_map_flipped=save_npy(stem + "_layer.npy", small))
        xg = x.clone().requires_grad_(True)
        sal = Saliency(model).attribute(xg, target=target)
        t["methods"]["saliency"] = {"attribution": save_npy(f"{name}_{tag}_saliency.npy",
                                                            sal[0].detach().numpy())}
        gbp = GuidedBackprop(model).attribute(x.clone().requires_grad_(True), target=target)
        t["methods"]["guided-backprop"] = {
            "attribution": save_npy(f"{name}_{tag}_guided-backprop.npy", gbp[0].detach().numpy())}
        ig, delta = IntegratedGradients(model).attribute(
            x.clone(), baselines=torch.zeros_like(x), target=target, n_steps=IG_STEPS,
            method="gausslegendre", return_convergence_delta=True)
        t["methods"]["integrated-gradients"] = {
            "attribution": save_npy(f"{name}_{tag}_integrated-gradients.npy",
                                    ig[0].detach().numpy()),
            "delta": float(delta[0]), "steps": IG_STEPS,
            "completeness": float(logits[target] - logits0[target])}
        torch.manual_seed(0)
        sg = NoiseTunnel(Saliency(model)).attribute(
            x.clone().requires_grad_(True), nt_type="smoothgrad", nt_samples=SMOOTH_SAMPLES,
            stdevs=SMOOTH_NOISE, target=target)
        t["methods"]["smoothgrad"] = {
            "attribution": save_npy(f"{name}_{tag}_smoothgrad.npy", sg[0].detach().numpy()),
            "samples": SMOOTH_SAMPLES, "noise": SMOOTH_NOISE}
        case["targets"].append(t)
    expected.append(case)
    print(name, "top1", top1, "other", other, flush=True)

tmp = os.path.join(out, "expected.json.tmp")
with open(tmp, "w") as f:
    json.dump(expected, f, indent=1)
os.replace(tmp, os.path.join(out, "expected.json"))
