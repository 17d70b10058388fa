#!/usr/bin/env bash
# Try popgate: builds it, starts a sandbox Dovecot (IMAP on 127.0.0.1:1143) with sample mail
# for alice, and runs popgate in front of it with POP3 on 127.0.0.1:1110. Ctrl-C stops all.
# Safe to re-run: whatever an earlier run left in $DEMO_DIR is stopped and removed first.
#
# Environment: POPGATE_DEMO_DIR (default /tmp/popgate-demo), POPGATE_BIN (default
# build/popgate), POPGATE_SKIP_BUILD=1 to use an existing binary as is.
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR=${POPGATE_DEMO_DIR:-/tmp/popgate-demo}
POPGATE_BIN=${POPGATE_BIN:-build/popgate}
IMAP_PORT=1143
POP3_PORT=1110
START_TIMEOUT_S=15

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# Stop the process named in a pid file, if it is still the program we started there.
stop_pidfile() {
  local file=$1 pattern=$2 pid
  [[ -f $file ]] || return 0
  pid=$(<"$file")
  if [[ $pid =~ ^[0-9]+$ ]] && grep -qa -- "$pattern" "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do [[ -e /proc/$pid ]] || break; sleep 0.1; done
  fi
  rm -f "$file"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cleanup() {
  trap - EXIT INT TERM
  log "stopping popgate and Dovecot"
  stop_pidfile "$DEMO_DIR/popgate.pid" "$POPGATE_BIN"
  stop_pidfile "$DEMO_DIR/sandbox.pid" dovecot_sandbox.py
}

# 1. Dependencies and build.
if [[ ${POPGATE_SKIP_BUILD:-0} != 1 ]]; then
  if [[ -x scripts/install-deps.sh ]]; then
    log "installing dependencies (scripts/install-deps.sh)"
    scripts/install-deps.sh
  fi
  log "building"
  cmake -S . -B build
  cmake --build build -j"$(nproc)"
fi
[[ -x $POPGATE_BIN ]] || die "no popgate binary at $POPGATE_BIN"
POPGATE_BIN=$(realpath "$POPGATE_BIN")

# 2. Leftovers of an earlier run (also a Dovecot whose supervisor was killed).
stop_pidfile "$DEMO_DIR/popgate.pid" popgate
stop_pidfile "$DEMO_DIR/sandbox.pid" dovecot_sandbox.py
stop_pidfile "$DEMO_DIR/dovecot/run/master.pid" "$DEMO_DIR/dovecot/dovecot.conf"
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
chmod 755 "$DEMO_DIR"
for port in $IMAP_PORT $POP3_PORT; do
  port_open "$port" && die "port $port is in use by another program"
done

trap cleanup EXIT
trap 'exit 130' INT TERM   # runs the EXIT trap

# 3. Dovecot with alice's sample mail; it writes DIR/ready once it serves.
log "starting Dovecot (IMAP 127.0.0.1:$IMAP_PORT) in $DEMO_DIR/dovecot"
/usr/bin/python3 scripts/dovecot_sandbox.py --dir "$DEMO_DIR/dovecot" \
  --imap-port "$IMAP_PORT" --pop3-port 0 --seed-sample &
echo $! >"$DEMO_DIR/sandbox.pid"
for _ in $(seq $((START_TIMEOUT_S * 10))); do
  [[ -f $DEMO_DIR/dovecot/ready ]] && break
  kill -0 "$(<"$DEMO_DIR/sandbox.pid")" 2>/dev/null || die "the Dovecot sandbox failed to start"
  sleep 0.1
done
[[ -f $DEMO_DIR/dovecot/ready ]] || die "Dovecot not ready after ${START_TIMEOUT_S}s"
read -r _ DOVECOT_POP3_PORT <"$DEMO_DIR/dovecot/ready"

# 4. popgate.
cat >"$DEMO_DIR/popgate.yaml" <<EOF
listeners:
  - name: pop3
    address: 127.0.0.1
    port: $POP3_PORT
session:
  idle_timeout_s: 600
backends:
  local:
    type: imap
    host: 127.0.0.1
    port: $IMAP_PORT
    mailbox: INBOX
routing:
  default_backend: local
  separators: "@+"
  domains:
    example.org: { backend: local, upstream_user: full }
EOF
log "starting popgate (POP3 127.0.0.1:$POP3_PORT), config $DEMO_DIR/popgate.yaml"
"$POPGATE_BIN" --config "$DEMO_DIR/popgate.yaml" &
echo $! >"$DEMO_DIR/popgate.pid"
for _ in $(seq $((START_TIMEOUT_S * 10))); do
  port_open "$POP3_PORT" && break
  kill -0 "$(<"$DEMO_DIR/popgate.pid")" 2>/dev/null || die "popgate exited"
  sleep 0.1
done
port_open "$POP3_PORT" || die "popgate not listening after ${START_TIMEOUT_S}s"

cat <<EOF

popgate is running. In another terminal, try:

  curl pop3://alice:alice-secret@127.0.0.1:$POP3_PORT/      # list alice's messages
  curl pop3://alice:alice-secret@127.0.0.1:$POP3_PORT/1     # fetch message 1

Dovecot's own POP3 on the same mailbox, to compare: 127.0.0.1:$DOVECOT_POP3_PORT
Press Ctrl-C to stop.
EOF
wait "$(<"$DEMO_DIR/popgate.pid")"
