#!/usr/bin/env bash
# The man page cnnscope(1), made from the built binary's own help by help2man: the NAME, SYNOPSIS
# and command list from `cnnscope --help`, the version from `cnnscope --version`, and a COMMANDS
# section with every subcommand's `cnnscope help CMD` (their flags), so nothing is written twice.
# Usage: scripts/make-man.sh BIN OUT.1.gz (written atomically; CMake runs it, cmake/Install.cmake).
set -euo pipefail
bin=$1
out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  echo "[COMMANDS]"
  # The subcommands: the names under "Subcommands:" of the top-level help.
  "$bin" --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}' |
    while read -r cmd; do
      echo ".SS $cmd"
      echo ".nf"
      # roff: "\" starts an escape, "-" is a hyphen ("\-" the minus that flags are typed with),
      # a leading "." or "'" a request.
      "$bin" help "$cmd" | sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\([.']\)/\\\\\&\1/"
      echo ".fi"
    done
  echo "[SEE ALSO]"
  echo "The README and docs/ of the cnnscope sources; \`cnnscope completion bash\` for bash completion."
} > "$tmp/include"
# The version's first line only: the others name the LibTorch of the machine that built the page.
help2man --no-info --section=1 --name="look inside trained convolutional networks" \
  --version-string="$("$bin" --version | head -1)" --include="$tmp/include" \
  --output="$tmp/cnnscope.1" "$bin"
gzip -9n < "$tmp/cnnscope.1" > "$out.tmp"
mv "$out.tmp" "$out"
