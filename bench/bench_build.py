"""Benchmark: how long a full build of the CLI takes (`ninja cnnscope` from an empty build
folder, ccache off, all cores), with clang (what CMakeLists.txt picks when the machine has it)
and with GCC in one run, and the ratio; and how long `cnnscope --version` (start-up, LibTorch's
version and path) takes. Issue 28's goal: a full CLI build in 4 min or less on 2 cores. The
figures before this release (GCC 12, one precompiled header of torch/torch.h: 13 min 46 s) are in
docs/building.md, "Build time".

Usage: bench_build.py --cnnscope BIN --work DIR [--compilers clang,gcc]
BIN's build folder gives the LibTorch to build against (its CMakeCache.txt).
"""
import argparse
import os
import re
import shutil
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
COMPILERS = {"clang": ("clang", "clang++"), "gcc": ("gcc", "g++")}


def cache_value(build, name):
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        m = re.search(rf"^{name}:[A-Z]+=(.*)$", f.read(), re.M)
    return m.group(1) if m else ""


def build_seconds(work, compiler, torch_wheel):
    folder = os.path.join(work, f"build-{compiler}")
    shutil.rmtree(folder, ignore_errors=True)
    cc, cxx = COMPILERS[compiler]
    env = dict(os.environ, CC=cc, CXX=cxx, CCACHE_DISABLE="1")
    subprocess.run(["cmake", "-S", SOURCE, "-B", folder, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                    f"-DCNNSCOPE_TORCH_WHEEL={torch_wheel}", "-DCNNSCOPE_TESTS=OFF",
                    "-DCMAKE_CXX_COMPILER_LAUNCHER="], env=env, check=True, capture_output=True)
    start = time.perf_counter()
    subprocess.run(["ninja", "-C", folder, f"-j{os.cpu_count()}", "cnnscope"], env=env, check=True,
                   capture_output=True)
    took = time.perf_counter() - start
    shutil.rmtree(folder, ignore_errors=True)
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnscope", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--compilers", default="clang,gcc")
    a = ap.parse_args()
    build = os.path.dirname(os.path.abspath(a.cnnscope))
    torch_wheel = cache_value(build, "CNNSCOPE_TORCH_WHEEL")
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([a.cnnscope, "--version"], check=True, capture_output=True)
        runs.append(time.perf_counter() - start)
    print(f"cnnscope --version: {1e3 * min(runs):.0f} ms (best of 5)")
    print(f"full build of the CLI, {os.cpu_count()} cores, no ccache, LibTorch "
          f"{'of ' + torch_wheel if torch_wheel else 'found by CMake'}:")
    seconds = {}
    for compiler in a.compilers.split(","):
        if not shutil.which(COMPILERS[compiler][1]):
            print(f"  {compiler}: not installed, skipped")
            continue
        seconds[compiler] = build_seconds(a.work, compiler, torch_wheel)
        print(f"  {compiler}: {seconds[compiler] / 60:.0f} min {seconds[compiler] % 60:.0f} s")
    if "clang" in seconds and "gcc" in seconds:
        print(f"  clang/gcc: {seconds['clang'] / seconds['gcc']:.2f}   (goal: clang <= 4 min)")


if __name__ == "__main__":
    main()
