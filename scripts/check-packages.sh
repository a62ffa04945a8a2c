#!/usr/bin/env bash
# The packages as users install them (`make check-packages`, run by .ci/run after `make test`):
#  1. the wheel (dist/cnnscope-*.whl) into a fresh venv that holds only pip and the pinned torch
#     (scripts/torch-requirements.txt: torch's LibTorch and the two CUDA libraries it loads);
#  2. the Debian package (dist/cnnscope_*.deb) with `apt-get install ./FILE` (root or sudo).
# From each, with build/ moved out of the way, it runs `cnnscope --version` (LibTorch found where
# the package says), `ls`, `predict --json` (probabilities equal to the build tree's within 1e-4:
# the .deb runs Debian's LibTorch 1.13) and `report` on a checkpoint and an image copied first; it
# checks that every RUNPATH entry is relative to the binary, that the man page and bash completion
# are installed (and the completion loads), that the wheel draws with its own fonts and ignores a
# FIFO in their place, and that `pip uninstall` / `apt-get remove` leave nothing.
# build/ is moved to build.away and back; a run killed before moving it back leaves build.away,
# which the next run (or `mv build.away build`) restores. Leaves out: other distributions, conda.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PYTHON3=/usr/bin/python3
away="$root/build.away"
if [ -d "$away" ]; then
  if [ -e "$root/build" ]; then
    echo "check-packages: both build/ and build.away/ exist: keep one (build.away is the tree an" \
      "interrupted run moved away)" >&2
    exit 1
  fi
  mv "$away" "$root/build"
fi
work=$(mktemp -d /tmp/cnnscope-packages.XXXXXX)
deb_installed=false
cleanup() {
  if [ -d "$away" ] && [ ! -e "$root/build" ]; then mv "$away" "$root/build"; fi
  if $deb_installed; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q cnnscope > /dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "check-packages: FAIL: $*" >&2
  exit 1
}

wheels=(dist/cnnscope-*.whl)
debs=(dist/cnnscope_*.deb)
[ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] || fail "want one wheel in dist/: ${wheels[*]}"
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "want one .deb in dist/: ${debs[*]}"
wheel=${wheels[0]}
deb=$(realpath "${debs[0]}")
# Inputs copied out of build/ first; the build tree's own answer to compare with.
cp build/fixtures/cli_models_resnet18.pth assets/chelsea.png "$work/"
ckpt="$work/cli_models_resnet18.pth"
predict_args=(predict "$ckpt" --image "$work/chelsea.png" --json)
build/cnnscope "${predict_args[@]}" > "$work/want.json"

# The venv, made before build/ moves (its torch comes from PyPI or pip's cache).
"$PYTHON3" -m venv "$work/venv"
"$work/venv/bin/pip" install --disable-pip-version-check -q --no-deps \
  -r scripts/torch-requirements.txt
find "$work/venv" -not -type d | sort > "$work/venv-before.txt"
"$work/venv/bin/pip" install --disable-pip-version-check -q --no-deps "$wheel"
deb_installed=true
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" > /dev/null

mv "$root/build" "$away"

# check_install NAME BIN LIBTORCH_PREFIX MAN COMPLETION
check_install() {
  local name=$1 bin=$2 torch_prefix=$3 man=$4 completion=$5
  echo "check-packages: $name: $bin"
  local version
  version=$("$bin" --version) || fail "$name: --version failed"
  echo "$version" | sed 's/^/  /'
  local library
  library=$(echo "$version" | sed -n 's/^from //p')
  [[ $(realpath "$library") == "$(realpath "$torch_prefix")"/* ]] ||
    fail "$name: LibTorch from $library, not from $torch_prefix"
  # Every RUNPATH entry relative to the binary (an absolute one points at the machine that built
  # it, an empty one at the current folder).
  local runpath entry
  runpath=$(readelf -d "$bin" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p')
  if [ -n "$runpath" ]; then
    IFS=: read -r -a entries <<< "$runpath:"
    for entry in "${entries[@]}"; do
      case "$entry" in '$ORIGIN/'*) ;; *) fail "$name: RUNPATH entry '$entry' in '$runpath'" ;; esac
    done
  fi
  "$bin" ls "$ckpt" > "$work/$name-ls.txt" || fail "$name: ls"
  grep -q "fc.weight" "$work/$name-ls.txt" || fail "$name: ls lists no fc.weight"
  "$bin" "${predict_args[@]}" > "$work/$name-predict.json" || fail "$name: predict"
  "$PYTHON3" - "$work/want.json" "$work/$name-predict.json" <<'PY' || fail "$name: predict differs"
import json, sys
want, got = (json.load(open(p)) for p in sys.argv[1:])
def probs(doc):
    return [image["probabilities"] for image in doc.get("images", [doc])]
for a, b in zip(probs(want), probs(got), strict=True):
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 1e-4, (a, b)
PY
  "$bin" report "$ckpt" --image "$work/chelsea.png" -o "$work/$name-report.html" > /dev/null ||
    fail "$name: report"
  grep -q "chelsea" "$work/$name-report.html" || fail "$name: report names no image"
  zgrep -q '^\.SS predict' "$man" || fail "$name: no man page at $man"
  bash -c 'source "$1" && complete -p cnnscope' _ "$completion" > /dev/null ||
    fail "$name: completion $completion does not load"
}

venv_torch="$work/venv/lib/$(ls "$work/venv/lib")/site-packages/torch/lib"
check_install wheel "$work/venv/bin/cnnscope" "$venv_torch" "$work/venv/share/man/man1/cnnscope.1.gz" \
  "$work/venv/share/bash-completion/completions/cnnscope"

# The wheel's fonts are the ones drawn with: under a fontconfig that knows no font, a figure made
# with the bundled fonts differs from one made with them hidden; a FIFO in a font's place is
# skipped, not read (it would block).
fonts="$work/venv/share/cnnscope/fonts"
[ -f "$fonts/DejaVuSans.ttf" ] || fail "wheel: no bundled font"
printf '<?xml version="1.0"?>\n<fontconfig></fontconfig>\n' > "$work/no-fonts.conf"
figure() {
  FONTCONFIG_FILE="$work/no-fonts.conf" timeout 120 "$work/venv/bin/cnnscope" filters "$ckpt" \
    -o "$1" > /dev/null
}
figure "$work/with-fonts.png" || fail "wheel: filters with the bundled fonts"
mv "$fonts" "$fonts.hidden"
figure "$work/without-fonts.png" || fail "wheel: filters without fonts"
cmp -s "$work/with-fonts.png" "$work/without-fonts.png" && fail "wheel: the bundled fonts are not used"
mkdir "$fonts"
mkfifo "$fonts/DejaVuSans.ttf"
figure "$work/fifo-font.png" || fail "wheel: a FIFO in place of a font blocked or failed the figure"
rm -rf "$fonts"
mv "$fonts.hidden" "$fonts"

check_install deb /usr/bin/cnnscope /usr/lib /usr/share/man/man1/cnnscope.1.gz \
  /usr/share/bash-completion/completions/cnnscope
dpkg-deb -f "$deb" Depends | grep -q libtorch || fail "deb: Depends names no libtorch package"

# Uninstalling leaves nothing behind.
"$work/venv/bin/pip" uninstall --disable-pip-version-check -q -y cnnscope
find "$work/venv" -not -type d | sort > "$work/venv-after.txt"
diff -u "$work/venv-before.txt" "$work/venv-after.txt" || fail "wheel: pip uninstall left files"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q cnnscope > /dev/null
deb_installed=false
[ ! -e /usr/bin/cnnscope ] || fail "deb: apt-get remove left /usr/bin/cnnscope"
[ ! -e /usr/share/man/man1/cnnscope.1.gz ] || fail "deb: apt-get remove left the man page"
echo "check-packages: wheel and .deb install, run and uninstall cleanly"
