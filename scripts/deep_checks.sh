#!/usr/bin/env bash
# Checks too slow for CI (scripts/test.sh), run by hand before a release or after touching
# threads, buffers or lifetimes:
#
#   tsan      a ThreadSanitizer build (Clang, -O1, build-tsan/): every unit test, then the
#             integration tests with every popgate at `workers: 4` (unless a test sets its own),
#             so the loops share their limits, locks and caches under TSan's eyes
#   valgrind  the Release build (build/, or $VALGRIND_BUILD) under valgrind memcheck for a few
#             integration modules: POPGATE_BIN is a wrapper that runs popgate under valgrind;
#             any error fails
#
#   scripts/deep_checks.sh [tsan] [valgrind]     (default: both)
#   VALGRIND_MODULES="test_delete test_sdps" scripts/deep_checks.sh valgrind
#   TSAN_TESTS='test_(drain|login_limits)' scripts/deep_checks.sh tsan   (a ctest -R filter)
#
# Every build has -Werror. The packages come from scripts/install-deps.sh (valgrind included).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
source scripts/phases.sh
checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(tsan valgrind)
# Sessions, deletion, routing, logging and the limits: about 3 minutes under valgrind here
# (test_tls adds 13: VALGRIND_MODULES="test_tls").
valgrind_modules=(${VALGRIND_MODULES:-test_delete test_sdps test_log test_login_limits})

# Clang: GCC 12 with -fsanitize=thread at -O1 warns of uninitialized std::variant members
# (-Wmaybe-uninitialized, false positives that -Werror turns into a failed build).
# -O1: much faster under TSan than -O0, and the stacks stay readable.
build_tsan() {
  CXX=clang++ build build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
    -DPOPGATE_TSAN=ON -DPOPGATE_BENCH=OFF
}

run_tsan() {
  phase "build: ThreadSanitizer (Clang, -O1)" build_tsan
  # Every report goes to a file of its own (the tests would only show one under a failure);
  # popgate stops at the first, so the test that provoked it fails too.
  local reports
  reports="$(mktemp -d /tmp/popgate-tsan-XXXXXX)"
  export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:log_path=$reports/tsan:suppressions=$root/scripts/tsan.supp"
  phase "tests: TSan, unit" ctest --test-dir build-tsan --output-on-failure -j"$jobs" -L unit
  # The fixture's POPGATE_WORKERS sets `workers:` where a test does not.
  local status=0
  phase "tests: TSan, integration, workers: 4" env POPGATE_WORKERS=4 POPGATE_KILL_AFTER_S=30 \
    ctest --test-dir build-tsan --output-on-failure -j"$jobs" -L integration --timeout 1800 \
    ${TSAN_TESTS:+-R "$TSAN_TESTS"} || status=$?
  if compgen -G "$reports/tsan.*" >/dev/null; then
    cat "$reports"/tsan.* >&2
    echo "ThreadSanitizer: $(ls "$reports"/tsan.* | wc -l) report file(s) in $reports" >&2
    return 1
  fi
  echo "ThreadSanitizer: no reports"
  return "$status"
}

run_valgrind() {
  local release="${VALGRIND_BUILD:-build}" dir
  phase "build: Release (GCC)" build "$release" -DCMAKE_BUILD_TYPE=Release
  dir="$(mktemp -d /tmp/popgate-valgrind-XXXXXX)"
  cat >"$dir/popgate" <<EOF
#!/bin/sh
exec valgrind --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite \\
  --log-file="$dir/valgrind.%p.log" "$root/$release/popgate" "\$@"
EOF
  chmod +x "$dir/popgate"
  # Valgrind is 20-50 times slower: popgate gets 30 s to exit on SIGTERM, so that it ends
  # by itself and valgrind writes its leak report.
  pushd tests/integration >/dev/null  # not a subshell: the phases' timings must stay
  for module in "${valgrind_modules[@]}"; do
    phase "tests: valgrind memcheck, $module" env POPGATE_BIN="$dir/popgate" \
      POPGATE_KILL_AFTER_S=30 /usr/bin/python3 -m unittest "$module"
  done
  popd >/dev/null
  # The tests see a session's bytes, not popgate's exit code: the logs are the verdict.
  local bad
  bad="$(grep -L "ERROR SUMMARY: 0 errors" "$dir"/valgrind.*.log || true)"
  if [ -n "$bad" ]; then
    echo "valgrind found errors (or a popgate was killed before its summary):" >&2
    for log in $bad; do cat "$log" >&2; done
    return 1
  fi
  echo "valgrind: $(ls "$dir"/valgrind.*.log | wc -l) popgate runs, 0 errors ($dir)"
}

for check in "${checks[@]}"; do
  case "$check" in
    tsan) run_tsan ;;
    valgrind) run_valgrind ;;
    *) echo "unknown check: $check (tsan, valgrind)" >&2; exit 2 ;;
  esac
done
