#!/usr/bin/env bash
# The whole test suite, from a clean clone on a fresh Debian 12 machine (this is what .ci/run
# runs). After installing the packages, each phase timed:
#   build the Release build (GCC: what users, packagers and the Docker image build), the
#   ASan+UBSan build (GCC, Debug) and a Clang build (Release); run the unit and integration
#   tests of the first two and the unit tests of the third; fuzz every network parser for a fixed
#   number of inputs from a fixed seed; build the container image and the .deb and run them
#   (scripts/test_container.sh). Every build here has -Werror (POPGATE_WERROR), which is never
#   on for a user's build. About 40 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${POPGATE_SKIP_DEPS:-0}" != "1" ]; then bash scripts/install-deps.sh; fi

source scripts/phases.sh
# Every target (popgate, the unit tests, the replay targets, the load generator) with Clang too.
build_clang() {
  CXX=clang++ build build-clang -DCMAKE_BUILD_TYPE=Release
}

phase "build: Release (GCC)" build build -DCMAKE_BUILD_TYPE=Release
phase "build: ASan+UBSan (GCC, Debug)" build build-asan -DCMAKE_BUILD_TYPE=Debug \
  -DPOPGATE_SANITIZE=ON
phase "build: Clang (Release)" build_clang

# Sanitizer reports must fail the run, not scroll by.
# A small quarantine: the default (256 MB) would hide the memory bound that test_memory asserts.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:quarantine_size_mb=4"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

phase "tests: Release build, unit and integration" \
  ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600
phase "tests: ASan+UBSan build, unit and integration" \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 900
phase "tests: Clang build, unit" \
  ctest --test-dir build-clang --output-on-failure -j"$jobs" --timeout 600 -L unit

# Fixed inputs from a fixed seed: the verdict depends on the code alone, never on what a
# fuzzer happened to try in the time it had (scripts/fuzz.sh 600 is for finding new inputs).
phase "fuzzing: every network parser (libFuzzer, ASan+UBSan), fixed seed and inputs" \
  env POPGATE_WERROR=ON bash scripts/fuzz.sh --fixed

# The image as users get it (docker/Dockerfile, built with podman: no Docker daemon or registry
# here), run read-only in front of a sandbox Dovecot; the .deb in a fresh Debian 12 container.
phase "container: image and package (podman)" bash scripts/test_container.sh build
