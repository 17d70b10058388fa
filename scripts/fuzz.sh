#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, Clang, ASan+UBSan) and runs them from the seeds in
# fuzz/corpus/<target>/. New inputs and crash files go to a scratch directory, never into the
# repository: add a crash file to fuzz/corpus/<target>/ once it is fixed, and the replay test of
# every build keeps it fixed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   each target for SECONDS (default 30), a new random
#                                           seed each time: for developers, to find new inputs
#   scripts/fuzz.sh --fixed [TARGET...]     each target for a fixed number of inputs from a
#                                           fixed seed: for CI (scripts/test.sh), where the same
#                                           code must always get the same verdict
#
# e.g. scripts/fuzz.sh 600 imap_response
set -euo pipefail
cd "$(dirname "$0")/.."

fixed=0
seconds=30
if [ "${1:-}" = "--fixed" ]; then
  fixed=1
  shift
elif [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  seconds="$1"
  shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pop3_command imap_response dot_stuffer session http_response login_input
                                             proxy_header http_request)

# --fixed: inputs per target, each about 30-60 s on 2 cores with all four running at once
# (measured: scripts/test.sh prints each target's time). A time limit would make the verdict
# depend on the machine's speed and load; a count and a seed do not.
declare -A fixed_runs=([pop3_command]=650000 [imap_response]=260000 [dot_stuffer]=250000
                       [session]=360000 [http_response]=250000 [login_input]=200000
                       [proxy_header]=300000 [http_request]=300000)
seed="${POPGATE_FUZZ_SEED:-1}"

# POPGATE_WERROR=ON in the environment (scripts/test.sh) makes warnings errors here too.
CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOPGATE_FUZZ=ON \
  -DPOPGATE_TESTS=OFF -DPOPGATE_BENCH=OFF -DPOPGATE_WERROR="${POPGATE_WERROR:-OFF}" >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/popgate_fuzz_}"

scratch="$(mktemp -d /tmp/popgate-fuzz.XXXXXX)"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
pids=()
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target/corpus"
  if [ "$fixed" = 1 ]; then
    # Limits far above what any input needs, even under ASan on a loaded machine: only a real
    # hang or a real leak of memory fails, never a slow moment.
    # Same seed, same inputs, only once nothing else varies (each cause found by running twice
    # and comparing): no mutations from the table of recent comparisons (-use_cmp=0), which
    # holds pointer values, and so depends on address randomisation, on the environment's size
    # (the stack) and on the build folder (the globals); and, as cheap insurance for the rest,
    # no randomisation (setarch -R), a fixed environment (env -i) and no rereading of the corpus
    # once a second (-reload=0). The time mode keeps the comparisons: it is for finding inputs.
    limits=(-seed="$seed" -runs="${fixed_runs[$target]:?no fixed run count for $target}"
            -timeout=120 -rss_limit_mb=4096 -reload=0 -use_cmp=0)
    run=(env -i PATH=/usr/bin:/bin ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS"
         setarch "$(uname -m)" -R)
  else
    limits=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048)
    run=()
  fi
  "${run[@]}" build-fuzz/fuzz/popgate_fuzz_"$target" "${limits[@]}" -print_final_stats=1 \
    -artifact_prefix="$scratch/$target/" "$scratch/$target/corpus" "fuzz/corpus/$target" \
    >"$scratch/$target/log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!targets[@]}"; do
  target="${targets[$i]}"
  if wait "${pids[$i]}"; then
    # The log holds raw bytes from fuzzed inputs (-a: text anyway); no match is no failure.
    log="$scratch/$target/log"
    runs=$(LC_ALL=C grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
      LC_ALL=C grep -a -o '[0-9]*$' || true)
    if [ "$fixed" = 1 ]; then
      took=$(LC_ALL=C grep -a -o '^Done [0-9]* runs in [0-9]* second' "$log" |
        LC_ALL=C grep -a -o '[0-9]* second$' || true)
      echo "fuzz $target: ${runs:-?} inputs from seed $seed in ${took:-?}(s), no failure"
    else
      echo "fuzz $target: ${runs:-?} inputs in ${seconds} s, no failure"
    fi
  else
    failed=1
    echo "fuzz $target: FAILED (log and input in $scratch/$target/)"
    LC_ALL=C tail -n 40 "$scratch/$target/log" | cat -v
    for crash in "$scratch/$target"/crash-* "$scratch/$target"/timeout-* "$scratch/$target"/oom-* \
                 "$scratch/$target"/leak-*; do
      if [ -e "$crash" ]; then echo "input (base64): $(base64 -w0 "$crash")"; fi
    done
  fi
done
if [ "$failed" = 0 ] && [ -z "${POPGATE_FUZZ_KEEP:-}" ]; then rm -rf "$scratch"; fi
exit "$failed"
