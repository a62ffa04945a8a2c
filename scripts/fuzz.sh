#!/usr/bin/env bash
# make fuzz: builds a libFuzzer target with clang (ASan + UBSan) in build-fuzz/ and runs it at low
# priority for FUZZ_SECONDS (default 600) from its seed corpus. FUZZ_TARGET: fuzz_load (the
# checkpoint loader, seeds in fuzz/corpus; the default) or fuzz_decode (the image decoders, seeds
# in fuzz/corpus_decode) or fuzz_torchscript (TorchScript archives and the graph interpreter; seeds
# written at run time by fuzz/make_corpus_torchscript.py with the oracle venv's PyTorch) or
# fuzz_onnx / fuzz_pt2 (ONNX models / torch.export archives and the Dataflow interpreter; seeds
# written at run time by fuzz/make_corpus_graph.py) or fuzz_detect (detection, the families'
# builders and the key layouts; seeds, key lists of torchvision's and timm's models, written at
# run time by fuzz/make_corpus_detect.py) or fuzz_reports (the job-output readers `report` takes,
# similarity.json; seeds written at run time by fuzz/make_corpus_reports.py).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-600}
jobs=${JOBS:-1}
target=${FUZZ_TARGET:-fuzz_load}
case "$target" in
  fuzz_load) seeds=fuzz/corpus ;;
  fuzz_decode) seeds=fuzz/corpus_decode ;;
  fuzz_torchscript)
    seeds=$build/seeds_torchscript
    "${ORACLE_VENV:-build/oracle-venv}/bin/python" fuzz/make_corpus_torchscript.py "$seeds"
    FUZZ_MAX_LEN=${FUZZ_MAX_LEN:-65536} ;;
  fuzz_onnx | fuzz_pt2)
    seeds=$build/seeds_${target#fuzz_}
    "${ORACLE_VENV:-build/oracle-venv}/bin/python" fuzz/make_corpus_graph.py "$seeds" "${target#fuzz_}"
    FUZZ_MAX_LEN=${FUZZ_MAX_LEN:-65536} ;;
  fuzz_detect)
    seeds=$build/seeds_detect
    "${ORACLE_VENV:-build/oracle-venv}/bin/python" fuzz/make_corpus_detect.py "$seeds"
    FUZZ_MAX_LEN=${FUZZ_MAX_LEN:-131072} ;;
  fuzz_reports)
    seeds=$build/seeds_reports
    python3 fuzz/make_corpus_reports.py "$seeds" ;;
  *) echo "fuzz: FUZZ_TARGET must be fuzz_load, fuzz_decode, fuzz_torchscript, fuzz_onnx, fuzz_pt2, fuzz_detect or fuzz_reports, got '$target'" >&2
     exit 1 ;;
esac
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCNNSCOPE_FUZZ=ON -DCNNSCOPE_TESTS=OFF
fi
nice -n 19 cmake --build "$build" --target "$target" -j "$jobs"
work="$build/corpus_$target"   # new inputs land here; the committed seeds stay as they are
mkdir -p "$work" "$build/artifacts"
echo "fuzz: running $build/$target for ${seconds}s (seeds: $seeds)"
LSAN_OPTIONS=suppressions=fuzz/lsan.supp:print_suppressions=1 \
  nice -n 19 "$build/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -malloc_limit_mb=1024 -max_len=${FUZZ_MAX_LEN:-16384} -print_final_stats=1 \
  -artifact_prefix="$build/artifacts/" "$work" "$seeds"
