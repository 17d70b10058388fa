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
  libhiredis-dev  # state shared between replicas (lib/redis): hiredis 0.14 and its libuv adapter
  libgtest-dev libgmock-dev
  libcrypt-dev libargon2-dev  # local credentials: the CRYPT password schemes, ARGON2I/ARGON2ID
  # fuzzing the network parsers (scripts/test.sh): Clang with libFuzzer and its sanitizers
  clang libclang-rt-14-dev libfuzzer-14-dev
  # the peers the demo and the integration tests run: a real Dovecot and real POP3 clients
  dovecot-imapd dovecot-pop3d python3 curl fetchmail mpop getmail6 openssl ca-certificates
  # Cyrus IMAP (scripts/cyrus_sandbox.py): the libraries its unpacked binaries need beyond the
  # ones above (checked with ldd), saslpasswd2 for its password store, unshare for its log
  sasl2-bin libsasl2-modules libsasl2-modules-db libical3 libshp2 libxapian30 util-linux
  # Courier-IMAP/courier-pop (scripts/courier_sandbox.py): its authentication library and daemon
  # install normally (no conflict with Dovecot; each sandbox runs an authdaemond of its own, never
  # the system's), plus the libraries of its unpacked binaries (checked with ldd)
  courier-authlib courier-authlib-userdb courier-authdaemon libcourier-unicode4 libgamin0
  libgdbm6 libidn12
  # nginx's mail proxy (tests/integration/test_auth_http_nginx.py): the auth_http reference
  nginx libnginx-mod-mail
  # a load balancer sending the PROXY protocol (tests/integration/test_proxy_protocol.py)
  haproxy
  # replicas sharing their mailbox leases (tests/integration/test_redis_state.py)
  redis-server
  # a real Prometheus server scrapes the admin endpoint (tests/integration/test_metrics.py)
  prometheus
  # the image and the package (scripts/test_container.sh): podman without a Docker daemon (runc:
  # crun fails on hybrid cgroups), a debian:12 base image from the archive, systemd-analyze
  podman runc slirp4netns uidmap netavark containernetworking-plugins fuse-overlayfs catatonit
  debootstrap systemd dpkg-dev
  # docker/compose.yaml with podman (scripts/test_container.sh compose-ha): podman-compose, and
  # aardvark-dns, without which containers cannot resolve each other's service names
  podman-compose aardvark-dns
  # scripts/deep_checks.sh: memcheck of popgate under the integration tests (TSan comes with g++)
  valgrind
)

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"

# Cyrus IMAP 3.6 (IMAP, its own POP3, JMAP) for the JMAP backend's tests and the benchmark.
# cyrus-imapd conflicts with dovecot-imapd as a package (both provide imap-server), so its
# .debs are only unpacked (dpkg -x, no maintainer scripts, nothing started) into CYRUS_ROOT;
# scripts/cyrus_sandbox.py runs them from there (override with POPGATE_CYRUS_ROOT).
CYRUS_ROOT="${POPGATE_CYRUS_ROOT:-/opt/popgate-peers/cyrus}"
CYRUS_DEBS=(cyrus-common cyrus-imapd cyrus-pop3d cyrus-caldav)  # caldav ships httpd (JMAP)
cyrus_version="$(apt-cache show --no-all-versions cyrus-common | sed -n 's/^Version: //p')"

# unpack_debs NAME ROOT VERSION CHECK DEB...: unless ROOT/CHECK exists and ROOT was unpacked
# from VERSION, downloads the .debs (apt-get download, as _apt) and unpacks them into ROOT.
unpack_debs() {
  local name="$1" root="$2" version="$3" check="$4"
  shift 4
  if [ -x "$root/$check" ] && [ "$(cat "$root/.popgate-version" 2>/dev/null)" = "$version" ]; then
    echo "$name $version already unpacked in $root"
    return
  fi
  local work
  work="$(mktemp -d)"
  chmod 755 "$work"
  if id _apt >/dev/null 2>&1; then $SUDO chown _apt "$work"; fi  # apt downloads as _apt
  (cd "$work" && $SUDO apt-get download -q "$@")
  $SUDO mkdir -p "$work/root"
  for deb in "$work"/*.deb; do $SUDO dpkg -x "$deb" "$work/root"; done
  echo "$version" | $SUDO tee "$work/root/.popgate-version" >/dev/null
  $SUDO mkdir -p "$(dirname "$root")"
  $SUDO rm -rf "$root"
  $SUDO mv "$work/root" "$root"
  $SUDO chmod 755 "$root"
  $SUDO rm -rf "$work"
  echo "$name $version unpacked in $root"
}
unpack_debs Cyrus "$CYRUS_ROOT" "$cyrus_version" usr/lib/cyrus/bin/master \
  "${CYRUS_DEBS[@]/%/=$cyrus_version}"
# Cyrus's master refuses to run as root: it switches to this user.
if ! id cyrus >/dev/null 2>&1; then
  $SUDO useradd -r -M -d /nonexistent -s /usr/sbin/nologin cyrus
fi

# Courier-IMAP 5.0 and courier-pop (IMAP and Courier's own POP3) for test_stores.py. They conflict
# with dovecot-imapd/dovecot-pop3d as packages (imap-server, pop3-server), so, as for Cyrus,
# their .debs are only unpacked into COURIER_ROOT (override with POPGATE_COURIER_ROOT).
COURIER_ROOT="${POPGATE_COURIER_ROOT:-/opt/popgate-peers/courier}"
COURIER_DEBS=(courier-base courier-imap courier-pop)
courier_version="$(apt-cache show --no-all-versions courier-imap | sed -n 's/^Version: //p')"
unpack_debs Courier "$COURIER_ROOT" "$courier_version" usr/bin/imapd "${COURIER_DEBS[@]}"
