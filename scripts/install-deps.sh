#!/usr/bin/env bash
# Installs everything popgate needs to build, run its demo and run its tests (Debian 12).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  # build
  cmake g++ make ninja-build pkg-config git
  libuv1-dev android-libboringssl-dev libyaml-cpp-dev libfmt-dev libspdlog-dev libcli11-dev
  libhttp-parser-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  # fuzzing the network parsers (scripts/test.sh): Clang with libFuzzer and its sanitizers
  clang libclang-rt-14-dev libfuzzer-14-dev
  # the peers the demo and the integration tests run: a real Dovecot and real POP3 clients
  dovecot-imapd dovecot-pop3d python3 curl fetchmail mpop getmail6 openssl ca-certificates
)

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
