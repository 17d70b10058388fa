"""What the benchmark ran on (the machine, the peers' versions, popgate's commit and build),
and the lock that keeps it to one run per work directory."""

import fcntl
import os
import platform
import resource
import subprocess
import sys

from . import procstat


def describe(repo, popgate_binary, cyrus_version=None):
    def first(path, prefix):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(prefix):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    def version(package):
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                             capture_output=True, text=True)
        return out.stdout.strip() or "not installed"

    def git(*args):
        out = subprocess.run(["git", "-C", repo] + list(args), capture_output=True, text=True)
        return out.stdout.strip()

    try:
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    except OSError:
        debian = "?"
    build_type = "?"
    cache = os.path.join(repo, "build", "CMakeCache.txt")
    built_here = os.path.abspath(popgate_binary) == os.path.join(repo, "build", "popgate")
    if built_here and os.path.exists(cache):
        with open(cache) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    build_type = line.split("=", 1)[1].strip()
    out = {
        "cpu": first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "memory_gib": round(int(first("/proc/meminfo", "MemTotal").split()[0]) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "debian": debian,
        "dovecot": version("dovecot-core"),
        "nginx": version("nginx-light"),
        "libuv": version("libuv1"),
        "boringssl": version("android-libboringssl"),
        "postal": version("postal"),
        "popgate_commit": git("rev-parse", "--short", "HEAD"),
        "popgate_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "popgate_build_type": build_type,
        "loadavg_at_start": procstat.loadavg(),
        "nofile_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    }
    if not built_here:
        out["popgate_binary"] = popgate_binary
    if cyrus_version:
        out["cyrus"] = cyrus_version
    return out


def lock_workdir(workdir):
    """Two runs at once would wipe each other's scratch directory (and disturb each other's
    figures): one run per work directory, held with a lock next to it. Keep the file returned."""
    lock = open(workdir.rstrip("/") + ".lock", "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        sys.exit(f"bench: another run holds {lock.name} (pid {lock.read().strip() or '?'}); "
                 "wait for it or set POPGATE_BENCH_DIR")
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock
