#!/usr/bin/env bash
# Where the scheduler puts the store and popgate decides a fast 100 MiB RETR on two cores.
# Runs N RETRs (default 20) of the big message through popgate for each placement of the store's
# Dovecot, popgate and the load generator on the two CPUs (and once unpinned); prints each RETR's
# wall time and popgate's CPU per RETR (from /proc). Uses the store, corpus and configuration that the
# last `bench/run.sh` left in its work directory (run it first; `--scenarios big` is enough).
#
#   bench/big_placement.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${POPGATE_BENCH_DIR:-/tmp/popgate-bench}"
runs="${1:-20}"
[[ -f $work/store/dovecot.conf && -f $work/popgate/popgate.yaml ]] ||
  { echo "no bench store in $work: run bench/run.sh --scenarios big first" >&2; exit 1; }
port=$(awk '/port:/ {print $2; exit}' "$work/popgate/popgate.yaml")
ticks=$(getconf CLK_TCK)

one_placement() {  # $1: label, $2, $3, $4: CPU lists for the store, popgate, the load generator
  taskset -c "$2" dovecot -c "$work/store/dovecot.conf"
  taskset -c "$3" build/popgate --config "$work/popgate/popgate.yaml" 2>/dev/null &
  local pg=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  local before walls="" out
  before=$(awk '{print $14 + $15}' "/proc/$pg/stat")
  for _ in $(seq "$runs"); do
    out=$(taskset -c "$4" build/bench/popgate-loadgen big --port "$port" --user big --password bench-secret \
      --message 1 --read-rate 0 --label placement)
    walls+=" $(grep -o '"retr_s":[0-9.]*' <<<"$out" | cut -d: -f2 | cut -c1-5)"
  done
  local after
  after=$(awk '{print $14 + $15}' "/proc/$pg/stat")
  kill "$pg"; wait "$pg" 2>/dev/null || true
  doveadm -c "$work/store/dovecot.conf" stop
  sleep 1
  printf '%-24s popgate CPU per RETR %5.1f ms; RETR wall s:%s\n' "$1" \
    "$(awk -v a="$after" -v b="$before" -v t="$ticks" -v n="$runs" 'BEGIN {print (a - b) * 1000 / t / n}')" \
    "$walls"
}

one_placement "store+popgate | client" 0 0 1
one_placement "store | popgate+client" 0 1 1
one_placement "store+client | popgate" 0 1 0
one_placement "unpinned" 0-1 0-1 0-1
