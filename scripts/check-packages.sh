#!/usr/bin/env bash
# The packages as users install them (`make check-packages`, run by .ci/run after `make test`):
#  1. the wheel (dist/cnnscope-*.whl) into a fresh venv that holds only pip and the pinned torch
#     (scripts/torch-requirements.txt: torch's LibTorch and the two CUDA libraries it loads);
#  2. the Debian package (dist/cnnscope_*.deb) with `apt-get install ./FILE` (root or sudo).
# From each, with build/ moved out of the way, it runs `cnnscope --version` (LibTorch found where
# the package says), `ls`, `predict --json` (probabilities equal to the build tree's within 1e-4:
# the .deb runs Debian's LibTorch 1.13) and `report` on a checkpoint and an image copied first; it
# checks the binary's RUNPATH holds no absolute path, that the man page and bash completion are
# installed (and the completion loads), and that `pip uninstall` / `apt-get remove` leave nothing.
# Leaves out: other distributions, a venv made by conda.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
work=$(mktemp -d /tmp/cnnscope-packages.XXXXXX)
moved=""
cleanup() {
  if [ -n "$moved" ]; then mv "$moved" "$root/build"; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "check-packages: FAIL: $*" >&2
  exit 1
}

wheel=$(ls dist/cnnscope-*.whl | tail -1)
deb=$(ls dist/cnnscope_*.deb | tail -1)
# Inputs copied out of build/ first; the build tree's own answer to compare with.
cp build/fixtures/cli_models_resnet18.pth build/fixtures/cli_models_labels.txt assets/chelsea.png \
  "$work/"
predict_args=(predict "$work/cli_models_resnet18.pth" --image "$work/chelsea.png"
  --classes "$work/cli_models_labels.txt" --json)
build/cnnscope "${predict_args[@]}" > "$work/want.json"

# The venv, made before build/ moves (its torch comes from PyPI or pip's cache).
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --disable-pip-version-check -q --no-deps \
  -r scripts/torch-requirements.txt
find "$work/venv" -not -type d | sort > "$work/venv-before.txt"
"$work/venv/bin/pip" install --disable-pip-version-check -q --no-deps "$wheel"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$(realpath "$deb")" > /dev/null

moved="$root/build.away.$$"
mv "$root/build" "$moved"

# check_install NAME BIN LIBTORCH_PREFIX MAN COMPLETION
check_install() {
  local name=$1 bin=$2 torch_prefix=$3 man=$4 completion=$5
  echo "check-packages: $name: $bin"
  local version
  version=$("$bin" --version) || fail "$name: --version failed"
  echo "$version" | sed 's/^/  /'
  echo "$version" | grep -q "^from $torch_prefix" || fail "$name: LibTorch not from $torch_prefix"
  if readelf -d "$bin" | grep -E 'R(UN)?PATH' | grep -qE '\[/|:/'; then
    fail "$name: absolute RUNPATH: $(readelf -d "$bin" | grep -E 'R(UN)?PATH')"
  fi
  "$bin" ls "$work/cli_models_resnet18.pth" > "$work/$name-ls.txt" || fail "$name: ls"
  grep -q "fc.weight" "$work/$name-ls.txt" || fail "$name: ls lists no fc.weight"
  "$bin" "${predict_args[@]}" > "$work/$name-predict.json" || fail "$name: predict"
  python3 - "$work/want.json" "$work/$name-predict.json" <<'PY' || fail "$name: predict differs"
import json, sys
want, got = (json.load(open(p)) for p in sys.argv[1:])
def probs(doc):
    return [image["probabilities"] for image in doc.get("images", [doc])]
for a, b in zip(probs(want), probs(got), strict=True):
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 1e-4, (a, b)
PY
  "$bin" report "$work/cli_models_resnet18.pth" --image "$work/chelsea.png" \
    -o "$work/$name-report.html" > /dev/null || fail "$name: report"
  grep -q "chelsea" "$work/$name-report.html" || fail "$name: report names no image"
  [ -s "$man" ] && zcat "$man" | grep -q '^\.SS predict' || fail "$name: no man page at $man"
  bash -c "source '$completion' && complete -p cnnscope" > /dev/null ||
    fail "$name: completion $completion does not load"
}

venv_torch="$work/venv/lib/$(ls "$work/venv/lib")/site-packages/torch/lib"
check_install wheel "$work/venv/bin/cnnscope" "$venv_torch" "$work/venv/share/man/man1/cnnscope.1.gz" \
  "$work/venv/share/bash-completion/completions/cnnscope"
# The wheel's fonts are the ones drawn with: under a fontconfig that knows no font, a figure made
# with the bundled fonts differs from one made with them hidden.
fonts="$work/venv/share/cnnscope/fonts"
[ -f "$fonts/DejaVuSans.ttf" ] || fail "wheel: no bundled font"
printf '<?xml version="1.0"?>\n<fontconfig></fontconfig>\n' > "$work/no-fonts.conf"
FONTCONFIG_FILE="$work/no-fonts.conf" "$work/venv/bin/cnnscope" filters \
  "$work/cli_models_resnet18.pth" -o "$work/with-fonts.png" > /dev/null
mv "$fonts" "$fonts.hidden"
FONTCONFIG_FILE="$work/no-fonts.conf" "$work/venv/bin/cnnscope" filters \
  "$work/cli_models_resnet18.pth" -o "$work/without-fonts.png" > /dev/null
mv "$fonts.hidden" "$fonts"
if cmp -s "$work/with-fonts.png" "$work/without-fonts.png"; then
  fail "wheel: the bundled fonts are not used"
fi
check_install deb /usr/bin/cnnscope /usr/lib /usr/share/man/man1/cnnscope.1.gz \
  /usr/share/bash-completion/completions/cnnscope
dpkg-deb -f "$deb" Depends | grep -q libtorch || fail "deb: Depends names no libtorch package"

# Uninstalling leaves nothing behind.
"$work/venv/bin/pip" uninstall --disable-pip-version-check -q -y cnnscope
find "$work/venv" -not -type d | sort > "$work/venv-after.txt"
diff -u "$work/venv-before.txt" "$work/venv-after.txt" || fail "wheel: pip uninstall left files"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q cnnscope > /dev/null
[ ! -e /usr/bin/cnnscope ] || fail "deb: apt-get remove left /usr/bin/cnnscope"
echo "check-packages: wheel and .deb install, run and uninstall cleanly"
