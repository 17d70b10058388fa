#!/usr/bin/env bash
# The `ha` profile of docker/compose.yaml as an operator starts it, with podman-compose: HAProxy
# (send-proxy-v2) over two popgate replicas that share their mailbox locks in Redis, in front of
# the sample Dovecot (README, "Containers").
#   1. the popgate image as localhost/popgate:compose (a layer-cache hit after
#      scripts/test_container.sh built this revision), the small images of the stack, and the
#      compose network with the file's fixed subnet (podman-compose 1.0.3 ignores `ipam:`);
#   2. up: `--profile ha up -d` where podman-compose knows profiles, else (Debian 12's 1.0.3)
#      `up -d haproxy`, which starts its dependencies;
#   3. scripts/compose_ha_check.py: mail through HAProxy, the client's address in the
#      replicas' logs, [IN-USE] across replicas, one replica stopped;
#   4. down, and the network removed.
# Usage: scripts/test_compose_ha.sh   (or scripts/test_container.sh compose-ha; run as root)
#   POPGATE_REUSE_IMAGE=1 takes an existing localhost/popgate:compose as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/container_env.sh
started=$(date +%s)
project=popgateha
network="${project}_default"
compose=(podman-compose -p "$project" -f docker/compose.yaml)
step() { echo "== compose-ha: $*"; }
fail() { echo "test_compose_ha: FAIL: $*" >&2; exit 1; }
quiet() { "$@" >"$POPGATE_CONTAINER_STATE/compose-ha.out" 2>&1 ||
  { cat "$POPGATE_CONTAINER_STATE/compose-ha.out"; fail "$*"; }; }
cleanup() {
  "${compose[@]}" down >/dev/null 2>&1 || true
  podman network rm -f "$network" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup  # what an interrupted run left

step "images"
ensure_base_image
if [ "${POPGATE_REUSE_IMAGE:-0}" = 1 ] && podman image exists localhost/popgate:compose; then
  echo "reusing localhost/popgate:compose"
else
  build_popgate_image localhost/popgate:compose
fi
podman run --rm localhost/popgate:compose --version
# Only these: `build` without names would build popgate again, without the revision.
quiet "${compose[@]}" build dovecot redis haproxy
subnet="$(sed -n 's/^ *- subnet: *\([0-9./]*\).*/\1/p' docker/compose.yaml)"
[ -n "$subnet" ] || fail "no subnet in docker/compose.yaml"
quiet podman network create --subnet "$subnet" \
  --label "io.podman.compose.project=$project" --label "com.docker.compose.project=$project" \
  "$network"

step "up (subnet $subnet)"
if podman-compose --help 2>&1 | grep -q -- --profile; then
  quiet "${compose[@]}" --profile ha up -d
else
  quiet "${compose[@]}" up -d haproxy
fi
ready=$(date +%s)
echo "stack up in $((ready - started)) s"

step "check"
python3 scripts/compose_ha_check.py "$project" 1111 8404 docker/dovecot/sample "$subnet" || {
  for service in haproxy popgate-a popgate-b redis dovecot; do
    echo "-- $service"
    podman logs "$(podman ps -a --format '{{.Names}}' \
      --filter "label=com.docker.compose.project=$project" \
      --filter "label=com.docker.compose.service=$service")" 2>&1 | tail -n 30
  done
  fail "the ha profile"
}

step "down"
quiet "${compose[@]}" down
podman network rm -f "$network" >/dev/null
echo "test_compose_ha: all passed in $(($(date +%s) - started)) s"
