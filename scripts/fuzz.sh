#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, Clang, ASan+UBSan) and runs each for SECONDS (default 30)
# from the seeds in fuzz/corpus/<target>/. New inputs and crash files go to a scratch directory,
# never into the repository: add a crash file to fuzz/corpus/<target>/ once it is fixed, and the
# replay test of every build keeps it fixed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 600 imap_response
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pop3_command imap_response dot_stuffer session)

CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOPGATE_FUZZ=ON \
  -DPOPGATE_TESTS=OFF -DPOPGATE_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/popgate_fuzz_}"

scratch="$(mktemp -d /tmp/popgate-fuzz.XXXXXX)"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
pids=()
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target/corpus"
  build-fuzz/fuzz/popgate_fuzz_"$target" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$scratch/$target/" \
    "$scratch/$target/corpus" "fuzz/corpus/$target" >"$scratch/$target/log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!targets[@]}"; do
  target="${targets[$i]}"
  if wait "${pids[$i]}"; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$scratch/$target/log" | grep -o '[0-9]*$')
    echo "fuzz $target: ${runs:-?} inputs in ${seconds} s, no failure"
  else
    failed=1
    echo "fuzz $target: FAILED (log and input in $scratch/$target/)"
    tail -n 40 "$scratch/$target/log"
    for crash in "$scratch/$target"/crash-* "$scratch/$target"/timeout-* "$scratch/$target"/oom-*; do
      [ -e "$crash" ] && echo "input (base64): $(base64 -w0 "$crash")"
    done
  fi
done
[ "$failed" = 0 ] && rm -rf "$scratch"
exit "$failed"
