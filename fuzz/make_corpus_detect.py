"""Seeds for fuzz/fuzz_detect.cpp, written at run time into the folder given as argv[1]: the
state_dict key lists of small torchvision and timm models (random init, 10 classes), one file each,
a line "NAME\\tD0,D1,..." per key (no tab for a scalar), so that the fuzzer starts from keys that
every family's detect and every key layout fits. A few KB each; no weights."""
import os
import sys
import warnings

import timm
import torchvision.models as tv

warnings.filterwarnings("ignore")
out = sys.argv[1]
os.makedirs(out, exist_ok=True)

models = {
    "tv_resnet18": lambda: tv.resnet18(num_classes=10),
    "tv_mobilenet_v2": lambda: tv.mobilenet_v2(num_classes=10),
    "tv_squeezenet1_1": lambda: tv.squeezenet1_1(num_classes=10),
    "tv_regnet_y_400mf": lambda: tv.regnet_y_400mf(num_classes=10),
    "tv_shufflenet_v2_x0_5": lambda: tv.shufflenet_v2_x0_5(num_classes=10),
}
for name in ["resnet18", "resnet26d", "efficientnet_b0", "mobilenetv3_small_100", "regnetx_008",
             "regnety_008", "convnext_atto", "densenet121", "inception_v3"]:
    models["timm_" + name] = lambda name=name: timm.create_model(name, num_classes=10)

for name, make in models.items():
    lines = []
    for key, t in make().state_dict().items():
        shape = ",".join(str(s) for s in t.shape)
        lines.append(key + ("\t" + shape if t.dim() else ""))
    with open(os.path.join(out, name + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
