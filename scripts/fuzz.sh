#!/usr/bin/env bash
# make fuzz: builds the libFuzzer target over the checkpoint loader with clang (ASan + UBSan) in
# build-fuzz/ and runs it at low priority for FUZZ_SECONDS (default 600) from the seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-600}
jobs=${JOBS:-1}
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCNNSCOPE_FUZZ=ON -DCNNSCOPE_TESTS=OFF
fi
nice -n 19 cmake --build "$build" --target fuzz_load -j "$jobs"
work="$build/corpus"   # new inputs land here; fuzz/corpus (committed) stays as it is
mkdir -p "$work" "$build/artifacts"
echo "fuzz: running $build/fuzz_load for ${seconds}s (seeds: fuzz/corpus)"
LSAN_OPTIONS=suppressions=fuzz/lsan.supp:print_suppressions=1 \
  nice -n 19 "$build/fuzz_load" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -malloc_limit_mb=1024 -max_len=16384 -print_final_stats=1 \
  -artifact_prefix="$build/artifacts/" "$work" fuzz/corpus
