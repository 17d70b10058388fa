#!/usr/bin/env bash
# The image and the package, as a user meets them (README, "Containers" and "Packages"):
#   1. builds docker/Dockerfile with podman (base image from Debian's archive, see
#      scripts/container_env.sh), unchanged from what `docker build` takes;
#   2. runs the image read-only, as shipped, in front of a sandbox Dovecot on the host: its
#      HEALTHCHECK passes, curl (a real POP3 client) downloads alice's mail through it, and
#      `podman stop` drains a session in progress (QUIT still gets +OK) and exits 0 in time;
#   3. builds the .deb with CPack from BUILD_DIR (default build), installs it into a fresh
#      debian:12 container, where the shipped configuration passes --check-config, and checks
#      the systemd unit with systemd-analyze verify.
# Usage: scripts/test_container.sh [BUILD_DIR]     (run as root: podman needs it here)
#        scripts/test_container.sh compose-ha      the `ha` profile of docker/compose.yaml with
#                                                  podman-compose (scripts/test_compose_ha.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = compose-ha ] && exec scripts/test_compose_ha.sh
build_dir="${1:-build}"
. scripts/container_env.sh

image=localhost/popgate:test
work="$(mktemp -d /tmp/popgate-container-test.XXXXXX)"
mkdir -p "$work/state"
chmod 755 "$work"  # the sandbox Dovecot's unprivileged processes work below it
name="popgate-test-$$"
sandbox_pid=""
cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test_container: FAIL: $*" >&2; exit 1; }
step() { echo "== container: $*"; }

step "base image"
ensure_base_image

step "build the image"
revision="$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)"
# Also the tag docker/compose.yaml names, so that the compose-ha mode reuses this build.
build_popgate_image "$image" localhost/popgate:compose
size_mb=$(($(podman image inspect "$image" --format '{{.Size}}') / 1000000))
echo "image $image: $size_mb MB"
podman run --rm "$image" --version | tee "$work/version"
grep -q "($revision)" "$work/version" || fail "--version does not name the revision $revision"

step "run it in front of a sandbox Dovecot"
python3 scripts/dovecot_sandbox.py --dir "$work/dovecot" --seed-sample >"$work/sandbox.out" 2>&1 &
sandbox_pid=$!
for _ in $(seq 600); do [ -f "$work/dovecot/ready" ] && break; sleep 0.1; done
[ -f "$work/dovecot/ready" ] || { cat "$work/sandbox.out"; fail "the sandbox Dovecot did not start"; }
read -r imap_port _ <"$work/dovecot/ready"
pop3_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# slirp4netns reaches the host's loopback (where the sandbox listens) at 10.0.2.2. Read-only root
# and the shipped configuration, configured only by the environment.
podman run -d --name "$name" --read-only --network slirp4netns:allow_host_loopback=true \
  -p "127.0.0.1:$pop3_port:1110" -v "$work/state:/var/lib/popgate:U" \
  -e POPGATE_IMAP_HOST=10.0.2.2 -e POPGATE_IMAP_PORT="$imap_port" -e POPGATE_IMAP_TLS=none \
  "$image" >/dev/null
healthy=0
for _ in $(seq 100); do
  if podman healthcheck run "$name" >/dev/null 2>&1; then healthy=1; break; fi
  sleep 0.2
done
[ "$healthy" = 1 ] || { podman logs "$name"; fail "the HEALTHCHECK never passed"; }
echo "HEALTHCHECK passes"

curl -sS --max-time 20 -u alice:alice-secret "pop3://127.0.0.1:$pop3_port/1" >"$work/msg1" ||
  { podman logs "$name"; fail "curl could not RETR through the container"; }
grep -q "^Subject: " "$work/msg1" || fail "message 1 has no Subject header"
listed="$(curl -sS --max-time 20 -u alice:alice-secret "pop3://127.0.0.1:$pop3_port/" | wc -l)"
[ "$listed" -ge 2 ] || fail "LIST through the container shows $listed messages"
echo "curl: LIST shows $listed messages, RETR 1 has its headers"

step "podman stop drains a session in progress"
python3 - "$pop3_port" "$name" <<'PY'
import poplib, subprocess, sys, time
port, name = int(sys.argv[1]), sys.argv[2]
pop = poplib.POP3("127.0.0.1", port, timeout=20)
pop.user("alice")
pop.pass_("alice-secret")
count, _ = pop.stat()
stop = subprocess.Popen(["podman", "stop", "-t", "10", name])
# The drain has begun once the log says so; the session is still served, and QUIT commits.
for _ in range(100):
    if b"draining" in subprocess.run(["podman", "logs", name], capture_output=True).stderr:
        break
    time.sleep(0.1)
else:
    sys.exit("no drain in the log after podman stop")
pop.retr(1)
reply = pop.quit()
if not reply.startswith(b"+OK"):
    sys.exit(f"QUIT during the drain got {reply!r}")
if stop.wait(timeout=30) != 0:
    sys.exit("podman stop failed")
print(f"drain: STAT {count}, RETR 1 and QUIT +OK after podman stop")
PY
state="$(podman inspect "$name" --format '{{.State.ExitCode}}')"
podman logs "$name" 2>&1 | grep -q "drained in" || { podman logs "$name"; fail "no 'drained in' line"; }
[ "$state" = 0 ] || fail "popgate exited with $state after the drain (137: killed, not drained)"
echo "exit code 0 after the drain"

step "the .deb in a fresh debian:12"
cmake -S . -B "$build_dir" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
(cd "$build_dir" && cpack -G DEB >/dev/null)
deb="$(ls "$build_dir"/popgate_*.deb | head -n 1)"
dpkg-deb --info "$deb" | sed -n 's/^ *\(Depends:.*\)/\1/p'
podman run --rm -v "$(realpath "$deb"):/tmp/popgate.deb:ro" docker.io/library/debian:12 sh -ec '
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/popgate.deb >/dev/null
  popgate --version
  popgate --check-config /etc/popgate/popgate.yaml
  id popgate
  stat -c "%U:%G %a %n" /etc/popgate/popgate.yaml'

step "systemd-analyze verify the unit"
# Verified against the build's executable: the unit names /usr/bin/popgate, which the host
# need not have.
sed "s#/usr/bin/popgate#$(realpath "$build_dir/popgate")#g" packaging/popgate.service \
  >"$work/popgate.service"
systemd-analyze verify "$work/popgate.service"
echo "test_container: all passed"
