#!/usr/bin/env bash
# Installs every Debian package that cnnscope's build, tests, demo and benchmarks need.
# Idempotent: installs only what is missing, runs `apt-get update` at most once. `--check` only reports.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ ccache pkg-config clang-format
  # LibTorch C++ (find_package(Torch)) and the Python oracle used by tests and benchmarks
  # libopenblas0-pthread replaces Debian's reference BLAS for LibTorch and PyTorch alike
  # (ResNet50 forward, 1 thread: 1075 ms -> 161 ms for both)
  libtorch-dev libopenblas0-pthread python3-torch python3-torchvision python3-pil python3-numpy python3-matplotlib
  # images and figures: libturbojpeg, libpng, cairo, fonts
  libturbojpeg0-dev libpng-dev libcairo2-dev fonts-dejavu-core
  # CLI11, fmt, nlohmann_json (find_package names); Boost.CRC (header-only) for TensorBoard files
  libcli11-dev libfmt-dev nlohmann-json3-dev libboost-dev
  # tests: GoogleTest (GTest), libFuzzer via clang, headless Chromium for the report
  libgtest-dev libgmock-dev clang libclang-rt-14-dev chromium
  # tests: an independent TensorBoard event decoder (protobuf + CRC32C in Python)
  python3-protobuf python3-crc32c
  # tests: real sample photos for the image oracle (scikit-image's data folder)
  python3-skimage
  # benchmarks
  hyperfine
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${1:-}" = "--check" ]; then
  if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
  echo "missing packages: ${missing[*]}" >&2
  exit 1
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
