#!/usr/bin/env bash
# Installs what cnnscope needs, in three sets:
#   --runtime       what building and running the CLI needs (`make demo`, `make cli`, `make
#                   install`, `make wheel`): Debian packages for the build and the libraries it
#                   links, and build/torch-venv, a Python venv holding only the pinned `torch`
#                   wheel's LibTorch and the two CUDA libraries it loads
#                   (scripts/torch-requirements.txt, installed with --no-deps).
#   --debian-torch  that and Debian's libtorch-dev with dpkg-dev (`make deb`, TORCH=debian).
#   (default)       all of that, plus the tests' and the benchmarks' tools (GoogleTest, Chromium,
#                   libFuzzer, hyperfine, clang-format) and the test oracle: build/oracle-venv
#                   filled from PyPI with the exact pins of scripts/oracle-requirements.txt
#                   (torch, torchvision, numpy, Pillow, ...; about 6 GB).
# Idempotent: installs only missing packages, runs `apt-get update` at most once, and skips pip
# when a venv's stamp holds the same requirements hash. `--check` only reports (exit 1 when a
# package or venv is missing or outdated). TORCH_VENV and ORACLE_VENV override the venvs'
# folders. Nothing here touches the system's Python packages.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

RUNTIME_PACKAGES=(
  # build (clang: CMakeLists.txt prefers it, less than half GCC's build time; g++ for libstdc++)
  cmake ninja-build clang g++ ccache pkg-config
  # the man page of `make install` and the wheel (help2man)
  help2man
  # the venv holding the torch wheel's LibTorch: Debian's python3 with venv + pip
  python3 python3-venv
  # images and figures: libturbojpeg, libpng, cairo (+ fontconfig), fonts
  libturbojpeg0-dev libpng-dev libcairo2-dev fonts-dejavu-core
  # more image formats: GIF (giflib), WebP (libwebp), TIFF (libtiff)
  libgif-dev libwebp-dev libtiff-dev
  # CLI11, fmt, nlohmann_json (find_package names); Boost.CRC (header-only) for TensorBoard files
  libcli11-dev libfmt-dev nlohmann-json3-dev libboost-dev
  # ONNX models: the ONNX project's own generated protobuf classes (and protobuf under them)
  libonnx-dev libprotobuf-dev
  # `cnnscope serve`: cpp-httplib (HTTP/1.1 server with a thread pool, timeouts, body limits)
  libcpp-httplib-dev
  # `make demo` trains on Fashion-MNIST (IDX files, gzipped, in /usr/share/datasets/fashion-mnist)
  dataset-fashion-mnist
)
DEBIAN_TORCH_PACKAGES=(
  # Debian's LibTorch C++ (find_package(Torch)): `make deb` and `make build TORCH=debian`;
  # libopenblas0-pthread replaces Debian's reference BLAS for it (ResNet50 forward, 1 thread:
  # 1075 ms -> 161 ms); the .deb's Depends come from dpkg-shlibdeps (dpkg-dev)
  libtorch-dev libopenblas0-pthread dpkg-dev
)
TEST_PACKAGES=(
  clang-format
  # tests: GoogleTest (GTest), libFuzzer (clang's runtime), headless Chromium for the report
  libgtest-dev libgmock-dev libclang-rt-14-dev chromium
  # benchmarks
  hyperfine
)

mode=full
check=false
for arg in "$@"; do
  case "$arg" in
    --runtime) mode=runtime ;;
    --debian-torch) mode=debian-torch ;;
    --check) check=true ;;
    *)
      echo "install-deps: unknown argument '$arg' (want --runtime or --debian-torch, and/or --check)" >&2
      exit 2
      ;;
  esac
done
PACKAGES=("${RUNTIME_PACKAGES[@]}")
if [ "$mode" != runtime ]; then PACKAGES+=("${DEBIAN_TORCH_PACKAGES[@]}"); fi
if [ "$mode" = full ]; then PACKAGES+=("${TEST_PACKAGES[@]}"); fi

TORCH_VENV=${TORCH_VENV:-$root/build/torch-venv}
ORACLE_VENV=${ORACLE_VENV:-$root/build/oracle-venv}
PYTHON3=/usr/bin/python3

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# A venv's stamp: its requirements file's hash and the Python that made it.
want_stamp() {
  echo "$(sha256sum "$1" | cut -d' ' -f1) $("$PYTHON3" -c 'import sys; print(sys.version.split()[0])')"
}
venv_ok() {  # VENV REQUIREMENTS
  [ -x "$1/bin/python" ] && [ -f "$1/.cnnscope-requirements" ] &&
    [ "$(cat "$1/.cnnscope-requirements")" = "$(want_stamp "$2")" ]
}
VENVS=("$TORCH_VENV" "$root/scripts/torch-requirements.txt")
if [ "$mode" = full ]; then VENVS+=("$ORACLE_VENV" "$root/scripts/oracle-requirements.txt"); fi

if $check; then
  status=0
  if [ ${#missing[@]} -ne 0 ]; then
    echo "missing packages: ${missing[*]}" >&2
    status=1
  fi
  for ((i = 0; i < ${#VENVS[@]}; i += 2)); do
    if [ ! -x "$PYTHON3" ] || ! venv_ok "${VENVS[i]}" "${VENVS[i + 1]}"; then
      echo "venv missing or outdated: ${VENVS[i]} (${VENVS[i + 1]#"$root"/})" >&2
      status=1
    fi
  done
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

# make_venv VENV REQUIREMENTS PIP_FLAGS...: the venv with exactly those pins.
make_venv() {
  local venv=$1 requirements=$2
  shift 2
  if venv_ok "$venv" "$requirements"; then
    echo "install-deps: venv $venv up to date"
    return
  fi
  # A venv made by another Python (or half made) is replaced; one with older pins is updated.
  if [ -x "$venv/bin/python" ] &&
    ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version != sys.argv[1])' \
      "$("$PYTHON3" -c 'import sys; print(sys.version)')"; then
    rm -rf "$venv"
  fi
  if [ ! -x "$venv/bin/python" ]; then
    echo "install-deps: creating the venv $venv"
    rm -rf "$venv"
    "$PYTHON3" -m venv "$venv"
  fi
  echo "install-deps: pip install $* -r ${requirements#"$root"/} into $venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q "$@" -r "$requirements"
  want_stamp "$requirements" > "$venv/.cnnscope-requirements.tmp"
  mv "$venv/.cnnscope-requirements.tmp" "$venv/.cnnscope-requirements"
}

make_venv "$TORCH_VENV" "$root/scripts/torch-requirements.txt" --no-deps
if [ "$mode" = full ]; then
  make_venv "$ORACLE_VENV" "$root/scripts/oracle-requirements.txt"
fi
echo "install-deps: ready ($mode)"
