#!/usr/bin/env bash
# Installs everything cnnscope's build, tests, demo and benchmarks need: Debian packages (apt), and
# the test oracle, a Python virtual environment at build/oracle-venv made with Debian's python3 and
# filled from PyPI with the exact pins of scripts/oracle-requirements.txt (torch, torchvision,
# numpy, Pillow, ...). Idempotent: installs only missing packages, runs `apt-get update` at most
# once, and skips pip when the venv's stamp holds the same requirements hash. `--check` only
# reports (exit 1 when a package is missing or the venv is missing or outdated).
# ORACLE_VENV overrides the venv's folder. Nothing here touches the system's Python packages.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES=(
  # build
  cmake ninja-build g++ ccache pkg-config clang-format
  # Debian's LibTorch C++ (find_package(Torch)), the fallback build (`make build TORCH=debian`);
  # libopenblas0-pthread replaces Debian's reference BLAS for it (ResNet50 forward, 1 thread:
  # 1075 ms -> 161 ms)
  libtorch-dev libopenblas0-pthread
  # the oracle's venv: Debian's python3 with venv + pip (the packages themselves come from PyPI)
  python3 python3-venv
  # images and figures: libturbojpeg, libpng, cairo, fonts
  libturbojpeg0-dev libpng-dev libcairo2-dev fonts-dejavu-core
  # more image formats: GIF (giflib), WebP (libwebp), TIFF (libtiff)
  libgif-dev libwebp-dev libtiff-dev
  # CLI11, fmt, nlohmann_json (find_package names); Boost.CRC (header-only) for TensorBoard files
  libcli11-dev libfmt-dev nlohmann-json3-dev libboost-dev
  # ONNX models: the ONNX project's own generated protobuf classes (and protobuf under them)
  libonnx-dev libprotobuf-dev
  # `cnnscope serve`: cpp-httplib (HTTP/1.1 server with a thread pool, timeouts, body limits)
  libcpp-httplib-dev
  # tests: GoogleTest (GTest), libFuzzer via clang, headless Chromium for the report
  libgtest-dev libgmock-dev clang libclang-rt-14-dev chromium
  # benchmarks
  hyperfine
  # `make demo` trains on Fashion-MNIST (IDX files, gzipped, in /usr/share/datasets/fashion-mnist)
  dataset-fashion-mnist
)

VENV=${ORACLE_VENV:-$root/build/oracle-venv}
REQUIREMENTS=$root/scripts/oracle-requirements.txt
STAMP=$VENV/.cnnscope-requirements
PYTHON3=/usr/bin/python3

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The stamp: the requirements file's hash and the Python that made the venv.
want_stamp() {
  echo "$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1) $("$PYTHON3" -c 'import sys; print(sys.version.split()[0])')"
}
venv_ok() {
  [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(want_stamp)" ]
}

if [ "${1:-}" = "--check" ]; then
  status=0
  if [ ${#missing[@]} -ne 0 ]; then
    echo "missing packages: ${missing[*]}" >&2
    status=1
  fi
  if [ ! -x "$PYTHON3" ] || ! venv_ok; then
    echo "oracle venv missing or outdated: $VENV (scripts/oracle-requirements.txt)" >&2
    status=1
  fi
  exit $status
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if venv_ok; then
  echo "install-deps: oracle venv $VENV up to date"
  exit 0
fi
# A venv made by another Python (or half made) is replaced; one with older pins is updated in place.
if [ -x "$VENV/bin/python" ] &&
  ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version != sys.argv[1])' \
    "$("$PYTHON3" -c 'import sys; print(sys.version)')"; then
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "install-deps: creating the oracle venv $VENV"
  rm -rf "$VENV"
  "$PYTHON3" -m venv "$VENV"
fi
echo "install-deps: pip install -r scripts/oracle-requirements.txt into $VENV (about 6 GB)"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQUIREMENTS"
want_stamp > "$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
echo "install-deps: oracle venv ready"
