# Sourced by the container scripts: podman as this machine kind needs it (no Docker daemon, no
# registry, cgroups in hybrid mode), and a debian:12 base image made from Debian's archive.
# Where Docker Hub is reachable, none of this is needed: `docker build` pulls debian:12.

POPGATE_CONTAINER_STATE="${POPGATE_CONTAINER_STATE:-/var/tmp/popgate-containers}"
mkdir -p "$POPGATE_CONTAINER_STATE"
# crun fails on hybrid cgroups and the default ulimits exceed the sandbox's hard limits.
nofile_hard="$(ulimit -Hn)"
nproc_hard="$(ulimit -Hu)"
# runc may not raise RLIMIT_NPROC to the hard limit itself here: 32768 is plenty for popgate.
if [ "$nproc_hard" = unlimited ] || [ "$nproc_hard" -gt 32768 ]; then nproc_hard=32768; fi
cat >"$POPGATE_CONTAINER_STATE/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=${nofile_hard}:${nofile_hard}", "nproc=${nproc_hard}:${nproc_hard}"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF="$POPGATE_CONTAINER_STATE/containers.conf"

# debian:12 and debian:12-slim from debootstrap, unless podman has them already (a pull, or an
# earlier run). The Dockerfile then builds unchanged with --pull=never.
ensure_base_image() {
  if podman image exists docker.io/library/debian:12 &&
    podman image exists docker.io/library/debian:12-slim; then
    return 0
  fi
  local mirror rootfs
  mirror="$(sed -n 's/^URIs: *\(http[^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
    head -n 1)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  rootfs="$(mktemp -d "$POPGATE_CONTAINER_STATE/rootfs.XXXXXX")"
  echo "container: debootstrap bookworm from $mirror (about 2 minutes)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
    { tail -n 20 "$rootfs.log"; return 1; }
  rm -rf "$rootfs/var/cache/apt/"* "$rootfs/var/lib/apt/lists/"*
  tar -C "$rootfs" -c . | podman import - localhost/debian:bookworm >/dev/null
  podman tag localhost/debian:bookworm docker.io/library/debian:12
  podman tag localhost/debian:bookworm docker.io/library/debian:12-slim
  rm -rf "$rootfs" "$rootfs.log"
}

# Builds docker/Dockerfile as each TAG given, with the git revision for --version. Sources and
# revision unchanged since the last build: podman's layer cache answers in seconds.
build_popgate_image() {
  local revision tags=()
  revision="$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)"
  for tag in "$@"; do tags+=(-t "$tag"); done
  # --format docker: the OCI format has no HEALTHCHECK.
  podman build --pull=never --format docker -q -f docker/Dockerfile \
    --build-arg POPGATE_REVISION="$revision" "${tags[@]}" . >/dev/null
}
