"""Seeds for fuzz_reports: similarity.json documents as `cnnscope similarity` writes them (two and
three layers, null values, a second network) and layers.json documents as `evolve -o` writes them,
made here without running cnnscope.
Usage: make_corpus_reports.py DIR"""
import json
import os
import sys


def document(rows, cols, b=None):
    return {"format": "cnnscope-similarity", "version": 1, "a": "a.pth", "b": b,
            "arch_a": "resnet18", "arch_b": "resnet18", "preset_a": "imagenet",
            "preset_b": "imagenet", "kernel": "linear", "unbiased": False, "rbf_threshold": 1.0,
            "batch": 32, "batches": 2,
            "images": {"listed": 64, "used": 64, "left_out": 0, "skipped": []},
            "rows": rows, "cols": cols,
            "cka": [[None if (i + j) % 5 == 4 else 1.0 / (1 + abs(i - j)) for j in range(len(cols))]
                    for i in range(len(rows))],
            "figure": "out/similarity.png"}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {"two.json": document(["conv1", "layer1"], ["conv1", "layer1"]),
             "three_b.json": document(["a", "b", "c"], ["x", "y"], b="b.pth"),
             "rbf.json": dict(document(["l"], ["l"]), kernel="rbf", unbiased=True)}
    seeds["layers.json"] = {
        "format": "cnnscope-evolve-layers", "version": 1,
        "checkpoints": ["e0.pth", "e1.pth", "e2.pth"], "steps": [0, 1, 5],
        "spectra": {"layers": ["conv1", "fc"], "alpha": [[3.1, None], [2.9, 4.0], [2.5, 3.5]]},
        "similarity": {"layers": ["layer1"], "images": 64, "preset": "imagenet",
                       "kernel": "linear", "unbiased": False, "cka": [[0.5], [0.9], [1.0]]}}
    for name, doc in seeds.items():
        with open(os.path.join(out, name), "w") as f:
            json.dump(doc, f)


if __name__ == "__main__":
    main()
