"""Benchmark of `cnnscope explain` against the Python libraries it follows, in one run (torchvision
ResNet50, random init, 224x224, same thread count):
1. Grad-CAM for one photo end to end, process start included: `cnnscope explain CKPT --image PHOTO`
   (overlay and heat map PNGs) vs a Python script that imports torch/torchvision/pytorch-grad-cam,
   loads the state_dict, preprocesses the photo, runs GradCAM and writes show_cam_on_image's PNG.
2. Grad-CAM per image in a batch of 32: cnnscope's (time(32 images) - time(1 image)) / 31, vs
   PyTorch's forward + backward (to layer4's output) of a batch of 32, in-process, per image.
3. Integrated gradients with 200 steps: peak memory (max RSS of the process) of cnnscope
   (`--steps 200 --batch 16`) vs Captum's IntegratedGradients(n_steps=200) at its default
   internal_batch_size (all steps in one batch).
Prints the ratios (cnnscope / Python: < 1 is faster / smaller). Wall times: best of --rounds.

Usage: bench_explain.py --cnnscope BIN --work DIR [--rounds 3] [--threads N]
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "oracle"))
import sample_photos  # noqa: E402

GRADCAM_SCRIPT = r"""
import sys
import numpy as np
import torch, torchvision
from PIL import Image
from torchvision import transforms
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.image import show_cam_on_image
ckpt, photo, out = sys.argv[1:4]
model = torchvision.models.resnet50()
model.load_state_dict(torch.load(ckpt))
model.eval()
pic = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])(
    Image.open(photo).convert("RGB"))
x = transforms.Compose([transforms.ToTensor(), transforms.Normalize(
    [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])(pic).unsqueeze(0)
with GradCAM(model=model, target_layers=[model.layer4[-1]]) as cam:
    gray = cam(input_tensor=x, targets=None)[0]
rgb = np.float32(pic) / 255
Image.fromarray(show_cam_on_image(rgb, gray, use_rgb=True)).save(out)
"""

IG_SCRIPT = r"""
import sys
import numpy as np
import torch, torchvision
from captum.attr import IntegratedGradients
ckpt, npy, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = torchvision.models.resnet50()
model.load_state_dict(torch.load(ckpt))
model.eval()
x = torch.from_numpy(np.load(npy)).unsqueeze(0)
with torch.no_grad():
    target = int(model(x).argmax())
attr, delta = IntegratedGradients(model).attribute(
    x, baselines=torch.zeros_like(x), target=target, n_steps=steps, method="gausslegendre",
    return_convergence_delta=True)
print(float(delta[0]))
"""


def measured(cmd, env):
    """Runs cmd; returns (wall seconds, max RSS in MiB) of that process alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench_explain: {cmd[0]} failed: {err.strip()}")
    return wall, usage.ru_maxrss / 1024.0


def best(rounds, cmd, env):
    return min(measured(cmd, env)[0] for _ in range(rounds))


def torch_fwd_bwd_ms(model, x, rounds):
    """Forward + backward to layer4's output for a batch, per image, best of rounds (ms)."""
    acts = []
    handle = model.layer4.register_forward_hook(lambda m, i, o: acts.append(o))
    best_s = float("inf")
    for r in range(rounds + 1):  # the first is a warm-up
        acts.clear()
        start = time.perf_counter()
        logits = model(x)
        target = logits.gather(1, logits.argmax(1, keepdim=True)).sum()
        torch.autograd.grad(target, acts[-1])
        if r:
            best_s = min(best_s, time.perf_counter() - start)
    handle.remove()
    return best_s / x.shape[0] * 1e3


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cnnscope", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    torch.manual_seed(0)
    model = torchvision.models.resnet50().eval()
    ckpt = os.path.join(args.work, "bench_explain_resnet50.pth")
    if not os.path.exists(ckpt):
        torch.save(model.state_dict(), ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
    model.load_state_dict(torch.load(ckpt))
    photo = sample_photos.photos("grace_hopper.jpg")
    if not photo:
        sys.exit("bench_explain: grace_hopper.jpg (matplotlib's sample data) not found")
    photo = photo[0]
    script = os.path.join(args.work, "bench_explain_gradcam.py")
    with open(script, "w") as f:
        f.write(GRADCAM_SCRIPT)
    out = os.path.join(args.work, "explain_out")
    print(f"threads {args.threads}; torchvision ResNet50 (random init), 224x224, layer4[-1]")

    # 1. one photo, end to end
    py = cs = float("inf")
    for _ in range(args.rounds):  # alternating, so a busy machine slows both alike
        py = min(py, best(1, [sys.executable, script, ckpt, photo,
                              os.path.join(args.work, "gradcam_py.png")], env))
        cs = min(cs, best(1, [args.cnnscope, "explain", ckpt, "--image", photo, "-o", out], env))
    print(f"Grad-CAM, one photo end to end: pytorch-grad-cam script {py:.2f} s, cnnscope "
          f"{cs:.2f} s, speed-up {py / cs:.2f}x")

    # 2. per image in a batch of 32 (random inputs as .npy)
    x = torch.randn(32, 3, 224, 224)
    inputs = []
    for i in range(32):
        path = os.path.join(args.work, f"bench_explain_{i:02d}.npy")
        np.save(path, x[i].numpy())
        inputs.append(path)
    base = [args.cnnscope, "explain", ckpt, "--batch", "32", "-o", out, "--image"]
    one = best(args.rounds, base + inputs[:1], env)
    many = best(args.rounds, base + inputs, env)
    cs_ms = (many - one) / 31 * 1e3
    torch_ms = torch_fwd_bwd_ms(model, x, args.rounds)
    print(f"Grad-CAM per image in a batch of 32: PyTorch forward+backward {torch_ms:.1f} ms, "
          f"cnnscope {cs_ms:.1f} ms (figures included), ratio {cs_ms / torch_ms:.2f}")

    # 3. integrated gradients, 200 steps: peak memory
    ig_script = os.path.join(args.work, "bench_explain_ig.py")
    with open(ig_script, "w") as f:
        f.write(IG_SCRIPT)
    _, py_rss = measured([sys.executable, ig_script, ckpt, inputs[0], "200"], env)
    _, cs_rss = measured([args.cnnscope, "explain", ckpt, "--image", inputs[0], "--method",
                          "integrated-gradients", "--steps", "200", "--batch", "16", "-o", out],
                         env)
    print(f"Integrated gradients, 200 steps, peak RSS: Captum {py_rss:.0f} MiB, cnnscope "
          f"{cs_rss:.0f} MiB (--batch 16), ratio {cs_rss / py_rss:.2f}")


if __name__ == "__main__":
    main()
