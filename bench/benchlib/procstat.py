"""What a target costs, read from /proc: CPU seconds and resident memory of a process tree.

A target is one or more root processes and all their descendants (Dovecot forks a login and a
mail process per session; nginx has a master and workers). CPU of a tree is the sum over its
live processes of utime+stime+cutime+cstime: a child that exits and is reaped moves its own
and its reaped children's time into its parent's cutime/cstime, so the sum keeps counting
sessions that have ended. (A child reaped between two reads can be missed or counted twice:
the error is at most one session's CPU.)
"""

import os
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (index 0 = state)."""
    data = _read(f"/proc/{pid}/stat")
    if data is None:
        return None
    return data[data.rindex(b")") + 2:].split()


def parents():
    """pid -> ppid for every process."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat_fields(int(name))
            if fields is not None:
                out[int(name)] = int(fields[1])
    return out


def tree(roots):
    """The roots and all their live descendants."""
    ppid = parents()
    children = {}
    for pid, parent in ppid.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [r for r in roots if r in ppid]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def pin(pids, cpu):
    """Every thread of these processes on one CPU."""
    for pid in pids:
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            continue
        for tid in tids:
            try:
                os.sched_setaffinity(tid, {cpu})
            except OSError:
                pass


def cpu_split(pids):
    """(user, system) seconds: utime+cutime and stime+cstime summed over `pids` (fields 14-17
    of /proc/PID/stat)."""
    user = system = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            user += int(fields[11]) + int(fields[13])
            system += int(fields[12]) + int(fields[14])
    return user / CLK_TCK, system / CLK_TCK


def cpu_seconds(pids):
    return sum(cpu_split(pids))


def activity(pids):
    """{pid: (read calls, write calls, context switches)}: syscr and syscw of /proc/PID/io (the
    whole thread group) and the voluntary and involuntary switches of every thread. What
    wakes a process costs most of its system time: these say how often it happened."""
    out = {}
    for pid in pids:
        io = _read(f"/proc/{pid}/io")
        if io is None:
            continue
        fields = dict(line.split(b": ") for line in io.split(b"\n") if b": " in line)
        switches = 0
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in threads:
            for line in (_read(f"/proc/{pid}/task/{tid}/status") or b"").split(b"\n"):
                if b"ctxt_switches:" in line:
                    switches += int(line.split()[1])
        out[pid] = (int(fields.get(b"syscr", 0)), int(fields.get(b"syscw", 0)), switches)
    return out


def activity_since(before, now):
    """(read calls, write calls, switches) between two activity() readings: processes alive at
    both count their difference, processes born since count all of theirs."""
    total = [0, 0, 0]
    for pid, counts in now.items():
        base = before.get(pid, (0, 0, 0))
        for i in range(3):
            total[i] += max(counts[i] - base[i], 0)
    return tuple(total)


def status_kib(pid, field):
    data = _read(f"/proc/{pid}/status")
    if data is None:
        return None
    for line in data.split(b"\n"):
        if line.startswith(field.encode() + b":"):
            return int(line.split()[1])
    return None


def rss_kib(pids):
    return sum(status_kib(pid, "VmRSS") or 0 for pid in pids)


def anon_kib(pids):
    """Private anonymous memory (heap, stacks): what connections cost, without the shared
    libraries and files that RSS also counts."""
    return sum(status_kib(pid, "RssAnon") or 0 for pid in pids)


def pss_kib(pids):
    """Proportional set size: shared pages divided among the processes sharing them, so a
    multi-process server is not charged for its shared libraries once per process."""
    total = 0
    for pid in pids:
        data = _read(f"/proc/{pid}/smaps_rollup")
        for line in (data or b"").split(b"\n"):
            if line.startswith(b"Pss:"):
                total += int(line.split()[1])
    return total


def reset_peak(pid):
    """Linux >= 4.0: writing 5 to clear_refs resets VmHWM to the current RSS."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Target:
    """The processes of one server: root pids and their descendants."""

    def __init__(self, name, roots):
        self.name, self.roots = name, list(roots)

    def pids(self):
        return tree(self.roots)

    def cpu(self):
        return cpu_seconds(self.pids())

    def cpu_split(self):
        return cpu_split(self.pids())

    def activity(self):
        return activity(self.pids())

    def rss(self):
        return rss_kib(self.pids())

    def pss(self):
        return pss_kib(self.pids())

    def anon(self):
        return anon_kib(self.pids())

    def count(self):
        return len(self.pids())


class PeakGrowth:
    """Peak resident memory added by one operation: for processes alive at the start, VmHWM
    (reset at the start) minus the RSS then; for processes born during it (Dovecot's
    per-session processes), the last VmHWM seen before they exit, sampled every `period`."""

    def __init__(self, target, period=0.01):
        self.target, self.period = target, period
        self.base = {}
        self.born_peak = {}
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        for pid in self.target.pids():
            reset_peak(pid)
            self.base[pid] = status_kib(pid, "VmRSS") or 0
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            for pid in self.target.pids():
                if pid not in self.base:
                    hwm = status_kib(pid, "VmHWM")
                    if hwm is not None:
                        self.born_peak[pid] = hwm
            self._stop.wait(self.period)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        existing = 0
        for pid, base in self.base.items():
            hwm = status_kib(pid, "VmHWM")
            if hwm is not None:
                existing += max(hwm - base, 0)
        self.existing_kib = existing
        self.born_kib = sum(self.born_peak.values())
        self.growth_kib = existing + self.born_kib
        return False


class MachineCpu:
    """Busy CPU seconds of the whole machine (from /proc/stat), to see who else was running."""

    @staticmethod
    def busy_seconds():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return (sum(fields[:8]) - idle) / CLK_TCK


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def sleep_until(predicate, timeout, period=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return predicate()
