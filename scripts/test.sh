#!/usr/bin/env bash
# The whole test suite, from a clean clone on a fresh Debian 12 machine:
# installs the packages, builds twice (release and ASan+UBSan), runs unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${POPGATE_SKIP_DEPS:-0}" != "1" ]; then bash scripts/install-deps.sh; fi

jobs="$(nproc)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPOPGATE_SANITIZE=ON
cmake --build build-asan -j"$jobs"

# Sanitizer reports must fail the run, not scroll by.
# A small quarantine: the default (256 MB) would hide the memory bound that test_memory asserts.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:quarantine_size_mb=4"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

echo "== release build: unit and integration tests"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600
echo "== ASan+UBSan build: unit and integration tests"
ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 900

echo "== fuzzing: every network parser under libFuzzer (ASan+UBSan), ${POPGATE_FUZZ_SECONDS:-30} s each"
bash scripts/fuzz.sh "${POPGATE_FUZZ_SECONDS:-30}"
