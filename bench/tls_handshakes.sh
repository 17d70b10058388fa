#!/usr/bin/env bash
# TLS handshake cost of popgate's POP3S listener, ECDSA P-256 and RSA-2048 certificates,
# TLS 1.3 and TLS 1.2. Reports full handshakes per CPU-second of the popgate process (one
# worker, so: per core) — from /proc, independent of the client sharing the machine — and the
# wall-clock rate `openssl s_time` achieved.
#   bench/tls_handshakes.sh [seconds-per-run]      (needs build/popgate and the openssl CLI)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
BIN=${POPGATE_BIN:-build/popgate}
[[ -x $BIN ]] || { echo "build popgate first (cmake --build build)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "needs the openssl CLI (apt-get install openssl)" >&2; exit 1; }

work=$(mktemp -d /tmp/popgate-tlsbench-XXXXXX)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -keyout "$work/ecdsa.key" -out "$work/ecdsa.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -keyout "$work/rsa.key" -out "$work/rsa.pem" 2>/dev/null

hz=$(getconf CLK_TCK)
rows=()
for key in ecdsa rsa; do
  port=$(free_port)
  cat > "$work/$key.yaml" <<YAML
workers: 1
tls:
  certificates:
    - { cert: $work/$key.pem, key: $work/$key.key }
listeners:
  - { name: pop3s, address: 127.0.0.1, port: $port, tls: implicit }
backends:
  unused: { type: imap, host: 127.0.0.1, port: 1 }
routing:
  default_backend: unused
log:
  level: warn
YAML
  "$BIN" --config "$work/$key.yaml" 2>"$work/$key.log" &
  pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  for version in tls1_3 tls1_2; do
    before=$(cpu_ticks "$pid")
    out=$(openssl s_time -connect "127.0.0.1:$port" -new "-$version" -time "$SECONDS_PER_RUN" 2>&1)
    after=$(cpu_ticks "$pid")
    count=$(sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p' <<<"$out" | head -1)
    wall=$(sed -n 's/.*connections in \([0-9.]*\) real seconds.*/\1/p' <<<"$out" | head -1)
    [[ -n $count && -n $wall ]] || { echo "s_time failed: $out" >&2; exit 1; }
    rows+=("$(python3 -c "
cpu = ($after - $before) / $hz
print(f'| $key | ${version/_/.} | $count | {cpu:.2f} | {($count / cpu) if cpu else float(\"inf\"):.0f} | {$count / $wall:.0f} |')")")
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done

{
  echo "TLS handshakes against popgate (1 worker), $(nproc) cores, $(uname -m), $(date -u +%F)"
  echo "Command: bench/tls_handshakes.sh $SECONDS_PER_RUN (client: openssl s_time -new, $(openssl version | cut -d' ' -f1-2))"
  echo
  echo "| certificate | protocol | handshakes | popgate CPU s | handshakes per CPU-second | wall handshakes/s |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
} | tee "bench/results/tls-handshakes-$(date -u +%Y%m%dT%H%M%SZ).md"
