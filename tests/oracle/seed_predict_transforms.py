"""The input transform each seed-series predict.py builds (WZMIAOMIAO/deep-learning-for-image-
processing, pytorch_classification/<folder>/predict.py, read there and written here in our own
words), by the arch name cnnscope gives the seed's model: seed/googlenet (Test4_googlenet),
seed/efficientnet_b0..b7 (Test9_efficientNet, its img_size table), seed/efficientnetv2_s/m/l
(Test11_efficientnetV2, the val size of its img_size table), seed/convnext_* (ConvNeXt,
Resize(int(224 * 1.14))) and seed/regnet* (Test10_regnet, one per model_cfgs name of its model.py).
Leaves out the training transforms (random crops and flips).
"""
from torchvision import transforms

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
HALF = ([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])

EFFICIENTNET_SIZES = {"b0": 224, "b1": 240, "b2": 260, "b3": 300, "b4": 380, "b5": 456,
                      "b6": 528, "b7": 600}
EFFICIENTNETV2_SIZES = {"s": 384, "m": 480, "l": 480}  # img_size[...][1], the val size
REGNET_NAMES = [f"regnet{kind}_{flops}" for kind in "xy"
                for flops in ("200mf", "400mf", "600mf", "800mf", "1.6gf", "3.2gf", "4.0gf",
                              "6.4gf", "8.0gf", "12gf", "16gf", "32gf")]


def _resize_crop(resize, crop, normalize):
    return transforms.Compose([transforms.Resize(resize), transforms.CenterCrop(crop),
                               transforms.ToTensor(), transforms.Normalize(*normalize)])


def predict_transforms():
    """{arch name: the predict.py transform} for every seed arch of these five folders."""
    t = {"seed/googlenet": transforms.Compose([transforms.Resize((224, 224)),
                                               transforms.ToTensor(),
                                               transforms.Normalize(*HALF)])}
    for b, size in EFFICIENTNET_SIZES.items():
        t[f"seed/efficientnet_{b}"] = _resize_crop(size, size, IMAGENET)
    for s, size in EFFICIENTNETV2_SIZES.items():
        t[f"seed/efficientnetv2_{s}"] = _resize_crop(size, size, HALF)
    for s in ("tiny", "small", "base", "large", "xlarge"):
        t[f"seed/convnext_{s}"] = _resize_crop(int(224 * 1.14), 224, IMAGENET)
    for name in REGNET_NAMES:
        t[f"seed/{name}"] = _resize_crop(256, 224, IMAGENET)
    return t
