#!/usr/bin/env bash
# popgate's benchmark, one command: installs what it needs from Debian, builds popgate and the
# load generator, starts four POP3 targets on 127.0.0.1 over one Dovecot store, seeds the
# corpus, runs every scenario against every target and writes a Markdown report to
# bench/results/<timestamp>/summary.md and bench/results/latest.md (and prints it).
#
#   bench/run.sh            full run (about 10 minutes on 2 cores)
#   bench/run.sh --quick    short runs: a smoke test (about 2 minutes)
#   bench/run.sh --scenarios poll,bulk --targets dovecot,popgate   a subset
#   bench/run.sh --scenarios huge   a 100,000-message mailbox: login, STAT, UIDL, LIST timed on
#                           Dovecot native, imapc and popgate, and popgate's bytes per message
#   bench/run.sh --scenarios poll,bulk --targets popgate-jmap,popgate-cyrus-imap
#                           popgate over JMAP and over IMAP on one Cyrus store (also cyrus-pop3d;
#                           Cyrus from scripts/install-deps.sh, started only for these targets)
#   bench/run.sh --scenarios poll,bulk --targets popgate-jmap,popgate-cyrus-imap --rounds 3
#                           every poll and bulk cell three times, the targets taking turns; the
#                           report gives medians and each round's JMAP / IMAP ratio
#
# Environment: POPGATE_BENCH_SKIP_INSTALL=1 (no apt-get), POPGATE_BENCH_SKIP_BUILD=1 (use the
# binaries in build/ as they are), POPGATE_BENCH_BIN and POPGATE_BENCH_LOADGEN (other popgate
# and popgate-loadgen binaries than build/'s), POPGATE_BENCH_DIR (scratch directory, default
# /tmp/popgate-bench, wiped at start). Every process it starts is stopped when it ends, also on
# Ctrl-C. Needs root (Dovecot's mail processes switch to the vmail user).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }
[[ $(id -u) -eq 0 ]] || { echo "bench/run.sh: run as root" >&2; exit 1; }

if [[ ${POPGATE_BENCH_SKIP_INSTALL:-0} != 1 ]]; then
  log "installing dependencies (scripts/install-deps.sh, nginx mail proxy, postal)"
  scripts/install-deps.sh
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    nginx-light libnginx-mod-mail postal >/dev/null
fi

if [[ ${POPGATE_BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building popgate and popgate-loadgen (RelWithDebInfo)"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)" --target popgate popgate-loadgen
fi

# The servers and the load generator need many descriptors (10,000 idle connections).
ulimit -n "$(ulimit -Hn)"
exec /usr/bin/python3 bench/bench.py --command-line "bench/run.sh $*" "$@"
