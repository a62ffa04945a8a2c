"""Fixtures for tests/models/test_export_cli.py: networks exported both ways today's
PyTorch offers, random init, with what PyTorch and onnxruntime compute for them.

For each NAME below the script writes
- models_export_NAME.pt2: `torch.export.save(torch.export.export(model.eval(), (x,)), ...)`;
- models_export_NAME.onnx (+ .onnx.data, the exporter's external weights next to it):
  `torch.onnx.export(model, (x,), ..., dynamo=True)` with the exporter's defaults (its optimizer
  folds each BatchNorm that follows a Conv into the Conv, so a conv's module path has no node of its
  own in the .onnx: the ONNX taps below are paths that keep one; the script checks that each one's
  value in the file, the last value made inside the path's scope and used after it, is what the
  forward hook saw, and stops with a message if not);
- models_export_NAME.expected.safetensors: `input` (x, batch 1), `logits` (eager forward), `tap.P`
  for every tapped module path P (forward hooks on the eager model, cloned; a module called twice
  keeps its last output; see oracle_common.run_with_hooks), `ort.logits` (onnxruntime on the
  .onnx, graph optimizations off) and `ort.value.V` (onnxruntime's value V of the .onnx, V exposed
  as an extra graph output);
- models_export_manifest.json: per NAME num_classes, params, channels, size, `modules`
  (named_modules() with class names), `pt2_modules` (those that own at least one node of the
  exported program, from its nn_module_stack: what a reader of the .pt2 can know), `taps_pt2`,
  `taps_onnx` (module paths that have nodes in the .onnx), `onnx_values` (an ONNX value name, the
  node that makes it and the module path whose output it is: taps by output and by node name);
- explain references for the exported resnet18 (`models_export_explain.json` and .npy files):
  pytorch-grad-cam 1.5.7 GradCAM at layer4.1 and Captum 0.9.0 integrated gradients (20
  Gauss-Legendre steps, zero baseline) on the eager model, for the top-1 class and the lowest
  one, computed as tests/oracle/make_explain_oracle.py does.

NAME: custom (grayscale 1x28x28: Sequential blocks, a functional ReLU, torch.flatten, a residual
add, a MaxPool module called twice, a `head` Linear), torchvision resnet18, mobilenet_v3_small,
efficientnet_b0, convnext_tiny, densenet121, and timm's resnet10t and efficientnet_lite0, each
at 64x64 (the custom at 28x28). Leaves out: dynamic shapes (Dim), batches above 1, the hostile
archives (make_graph_export.py), ONNX files not from PyTorch. Runs in about a minute on two
cores (51-60 s measured; the ONNX exports are most of it); writes about 470 MB of fixtures.

Usage: make_models_export.py OUT_DIR
"""
import collections
import json
import logging
import os
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
from oracle_common import run_with_hooks, save_safetensors  # noqa: E402
import seed_models  # noqa: E402

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
gen = torch.Generator().manual_seed(2501)
torch.manual_seed(251)
IG_STEPS = 20


class Custom(nn.Module):
    """The issue's "my own CNN": grayscale 28x28, what a tutorial network looks like."""

    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.pool = nn.MaxPool2d(2)  # called twice
        self.block2 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8))
        self.block3 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16))
        self.head = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = self.pool(self.block1(x))               # 14x14
        x = F.relu(self.block2(x) + x)              # residual add, functional ReLU
        x = self.pool(F.relu(self.block3(x)))       # 7x7, the second call of pool
        return self.head(torch.flatten(x, 1))


def timm_model(name):
    import timm
    return lambda: timm.create_model(name, pretrained=False, num_classes=10)


def tv(name):
    return lambda: getattr(torchvision.models, name)(num_classes=10)


# name: (builder, channels, size, taps of the .pt2 (any module), taps of the .onnx (paths that
# keep a node after the exporter's Conv+BN folding), the module path whose ONNX value is also
# tapped by value name and node name)
MODELS = collections.OrderedDict([
    ("custom", (Custom, 1, 28,
                ["block1", "block1.0", "block1.1", "pool", "block2", "block3.0"],
                ["block1", "pool", "block2"], "block2")),
    ("resnet18", (tv("resnet18"), 3, 64,
                  ["conv1", "bn1", "layer1.0.bn2", "layer1", "layer2.0.downsample", "layer4",
                   "avgpool"],
                  ["bn1", "layer1", "layer2.0", "layer2.0.downsample", "layer4", "avgpool"],
                  "layer1.0")),
    ("mobilenet_v3_small", (tv("mobilenet_v3_small"), 3, 64,
                            ["features.0", "features.1", "features.1.block.1", "features.12",
                             "avgpool"],
                            ["features.0", "features.1", "features.1.block.1", "features.12",
                             "avgpool"], "features.4")),
    ("efficientnet_b0", (tv("efficientnet_b0"), 3, 64,
                         ["features.0", "features.1.0.block.1", "features.1", "features.8",
                          "avgpool"],
                         ["features.0", "features.1.0.block.1", "features.1", "features.8",
                          "avgpool"], "features.3")),
    ("convnext_tiny", (tv("convnext_tiny"), 3, 64,
                       ["features.0", "features.1.0.block.2", "features.1.0", "features.7",
                        "classifier.0"],
                       ["features.0", "features.1.0", "features.7", "classifier.0"],
                       "features.3")),
    ("densenet121", (tv("densenet121"), 3, 64,
                     ["features.conv0", "features.denseblock1", "features.transition1",
                      "features.denseblock4", "features.norm5"],
                     ["features.denseblock1", "features.transition1", "features.denseblock4",
                      "features.norm5"], "features.transition2")),
    ("resnet10t", (timm_model("resnet10t"), 3, 64,
                   ["conv1", "bn1", "layer1", "layer4"],
                   ["bn1", "layer1", "layer4"], "layer2")),
    ("efficientnet_lite0", (timm_model("efficientnet_lite0"), 3, 64,
                            ["conv_stem", "bn1", "blocks.0", "blocks.3.1", "bn2"],
                            ["bn1", "blocks.0", "blocks.3.1", "bn2"],
                            "blocks.2")),
])


def no_inplace(model):
    """Captum's and pytorch-grad-cam's backward hooks and in-place ReLUs do not mix (as in
    make_explain_oracle.py); the math is the same."""
    for m in model.modules():
        if isinstance(m, (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.SiLU)):
            m.inplace = False
    return model


def module_paths_pt2(ep):
    """Module paths owning at least one call_function node, from nn_module_stack (every level)."""
    paths = set()
    for node in ep.graph.nodes:
        if node.op != "call_function":
            continue
        for path, _ in (node.meta.get("nn_module_stack") or {}).values():
            if path:
                paths.add(path.split("@")[0])
    return paths


def onnx_scopes(model_proto):
    """For each node: (node, the module paths of its name_scopes, outermost first)."""
    out = []
    for node in model_proto.graph.node:
        meta = {p.key: p.value for p in node.metadata_props}
        scopes = eval(meta.get("pkg.torch.onnx.name_scopes", "[]"), {})  # a Python list literal
        out.append((node, [s for s in scopes[1:-1] if s]))
    return out


def scope_output(scoped, model_proto, path):
    """(value, node name): the last value made by a node inside `path`'s scope that a node outside
    it (or the graph's output) uses."""
    inside = {id(n) for n, scopes in scoped if path in scopes}
    used_after = {o.name for o in model_proto.graph.output}
    for n, _ in scoped:
        if id(n) not in inside:
            used_after.update(n.input)
    made = [(v, n.name) for n, _ in scoped if id(n) in inside for v in n.output if v in used_after]
    return made[-1]


def ort_run(model_proto, x, extra_outputs=()):
    """onnxruntime's outputs (CPU, one thread): the graph's, then `extra_outputs` values."""
    import onnxruntime as ort
    m = onnx.ModelProto()
    m.CopyFrom(model_proto)
    for name in extra_outputs:
        m.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: x.numpy()}
    return [torch.from_numpy(np.asarray(v)) for v in sess.run(None, feed)]


def close(a, b, tol=1e-4):
    a, b = a.double(), b.double()
    return a.shape == b.shape and float((a - b).abs().max()) <= tol * max(float(b.abs().max()),
                                                                          1e-12)


def export_both(name, model, x):
    ep = torch.export.export(model, (x,))
    tmp = os.path.join(out, f"models_export_{name}.tmp.pt2")  # torch.export.save wants .pt2
    torch.export.save(ep, tmp)
    os.replace(tmp, os.path.join(out, f"models_export_{name}.pt2"))
    onnx_path = os.path.join(out, f"models_export_{name}.onnx")
    # the external data file is named after the .onnx, so it is written under its final name
    torch.onnx.export(model, (x,), onnx_path, dynamo=True, verbose=False)
    return ep, onnx.load(onnx_path)


def explain_references(model, x):
    """GradCAM at layer4.1 (grayscale_cam[0] and the map at the layer's resolution after the ReLU)
    and integrated gradients, for the top-1 and the lowest class: as make_explain_oracle.py."""
    from captum.attr import IntegratedGradients
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    with torch.no_grad():
        logits = model(x)[0]
        logits0 = model(torch.zeros_like(x))[0]
    layer = dict(model.named_modules())["layer4.1"]
    doc = {"layer": "layer4.1", "steps": IG_STEPS, "targets": []}

    def save(stem, a):
        np.save(os.path.join(out, stem + ".tmp.npy"), np.ascontiguousarray(a, dtype=np.float32))
        os.replace(os.path.join(out, stem + ".tmp.npy"), os.path.join(out, stem + ".npy"))
        return stem + ".npy"

    for target, tag in ((int(logits.argmax()), "top1"), (int(logits.argmin()), "other")):
        with GradCAM(model=model, target_layers=[layer]) as cam:
            full = cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0]
            acts = cam.activations_and_grads.activations[0].numpy()
            grads = cam.activations_and_grads.gradients[0].numpy()
            small = np.maximum(cam.get_cam_image(x, layer, None, acts, grads, False), 0)[0]
        ig, delta = IntegratedGradients(model).attribute(
            x.clone(), baselines=torch.zeros_like(x), target=target, n_steps=IG_STEPS,
            method="gausslegendre", return_convergence_delta=True)
        stem = f"models_export_explain_{tag}"
        doc["targets"].append({
            "class": target, "tag": tag,
            "gradcam": save(stem + "_gradcam", full),
            "gradcam_layer": save(stem + "_gradcam_layer", small),
            "integrated-gradients": save(stem + "_ig", ig[0].detach().numpy()),
            "delta": float(delta[0]), "completeness": float(logits[target] - logits0[target])})
    return doc


manifest = collections.OrderedDict()
explain_doc = None
started = time.perf_counter()
for name, (make, channels, size, taps_pt2, taps_onnx, value_path) in MODELS.items():
    t0 = time.perf_counter()
    model = no_inplace(seed_models.randomize_bn(make(), gen).eval())
    x = torch.randn(1, channels, size, size, generator=gen)
    taps = list(dict.fromkeys(taps_pt2 + taps_onnx + [value_path]))
    logits, got, shapes = run_with_hooks(model, taps, x)
    flat = [t for t in taps if got[t].dim() != 4]
    if flat:  # `features` writes feature maps [N, C, H, W] only
        sys.exit(f"make_models_export: {name}: taps that are not feature maps: {flat}")
    ep, onnx_model = export_both(name, model, x)

    pt2_paths = module_paths_pt2(ep)
    missing = [t for t in taps_pt2 if t not in pt2_paths]
    if missing:
        sys.exit(f"make_models_export: {name}: .pt2 taps without nodes: {missing}")
    scoped = onnx_scopes(onnx_model)
    onnx_paths = {p for _, scopes in scoped for p in scopes}
    missing = [t for t in taps_onnx + [value_path] if t not in onnx_paths]
    if missing:
        sys.exit(f"make_models_export: {name}: .onnx taps without nodes: {missing}")
    # each ONNX tap's value, as docs/models.md defines a module's output (the last value made inside
    # its scope and used after it), must be what the forward hook saw: a path whose output the
    # exporter folded into a node of another scope (timm resnet10t's conv1, whose last conv went
    # into bn1) is no ONNX tap
    values = [scope_output(scoped, onnx_model, t) for t in taps_onnx + [value_path]]
    ort_logits, *ort_values = ort_run(onnx_model, x, [v for v, _ in values])
    if not close(ort_logits, logits):
        sys.exit(f"make_models_export: {name}: onnxruntime's logits differ from PyTorch's")
    for t, (v, _), got_v in zip(taps_onnx + [value_path], values, ort_values):
        if not close(got_v, got[t]):
            sys.exit(f"make_models_export: {name}: ONNX value {v} is not {t}'s output")
    (value, node), ort_value = values[-1], ort_values[-1]

    expected = collections.OrderedDict([("input", x), ("logits", logits)])
    for t in taps:
        expected["tap." + t] = got[t]
    expected["ort.logits"] = ort_logits
    expected["ort.value." + value] = ort_value
    save_safetensors(expected, os.path.join(out, f"models_export_{name}.expected.safetensors"))
    modules = [[n, type(m).__name__] for n, m in model.named_modules() if n]
    parameter_names = {n for n, _ in model.named_parameters()}
    kept = [i for i in onnx_model.graph.initializer if i.name in parameter_names]
    manifest[name] = {
        "num_classes": logits.shape[1],
        "params": sum(p.numel() for p in model.parameters()),
        "channels": channels, "size": size,
        "modules": modules,
        "pt2_modules": [m for m in modules if m[0] in pt2_paths],
        # per module of pt2_modules: the output shape a forward hook sees (last call) and the
        # parameters it owns, itself and below
        "shapes": {n: shapes[n] for n, _ in modules if n in pt2_paths},
        "module_params": {n: sum(p.numel() for p in m.parameters())
                          for n, m in model.named_modules() if n in pt2_paths},
        # the .onnx's parameters: the initializers that are the model's parameters by name (the
        # exporter folds BatchNorms into convolutions: their weights and biases are gone, the
        # convolutions' new biases are no parameter of the model)
        "onnx_params": sum(int(np.prod(i.dims)) for i in kept),
        "taps_pt2": taps_pt2, "taps_onnx": taps_onnx,
        "onnx_values": [{"value": value, "node": node, "module": value_path}],
    }
    if name == "resnet18":
        explain_doc = explain_references(model, x)
    print(f"{name}: {time.perf_counter() - t0:.1f} s", flush=True)

for path, doc in (("models_export_explain.json", explain_doc),
                  ("models_export_manifest.json", manifest)):
    with open(os.path.join(out, path + ".tmp"), "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(os.path.join(out, path + ".tmp"), os.path.join(out, path))
print(f"total {time.perf_counter() - started:.1f} s", flush=True)
