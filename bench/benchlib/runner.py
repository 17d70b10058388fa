"""Runs the load generator (and rabid) against the targets and measures each target from /proc.

Every run produces one JSON file under the results directory:
  {"run": name, "target": ..., "command": [...], "loadgen": {its JSON}, "measure": {...}}
where "measure" holds the CPU seconds of the target's processes (gateway), of the store behind
it (backend), of helpers (nginx's auth_http), of the whole machine, and memory figures.
"""

import json
import os
import re
import signal
import subprocess
import time

from . import procstat

LOG_PROBLEMS = {
    # What counts as a problem line in each target's log.
    "popgate": re.compile(rb"^\S+ (warning|error|critical) "),
    "dovecot": re.compile(rb": (Warning|Error|Fatal|Panic): "),
    "imapc": re.compile(rb": (Warning|Error|Fatal|Panic): "),
    "nginx": re.compile(rb"\[(warn|error|crit|alert|emerg)\]"),
}
LOG_PROBLEMS["popgate-jmap"] = LOG_PROBLEMS["popgate-cyrus-imap"] = LOG_PROBLEMS["popgate"]


class TargetInfo:
    """One target as the runner sees it: where to connect and which processes to measure."""

    def __init__(self, name, title, pop3_port, pop3s_port, gateway, backend=None, aux=None,
                 logs=(), alive=None, login_log=None):
        self.name, self.title = name, title
        self.login_log = login_log  # (path, compiled regex of one line per successful login)
        self.pop3_port, self.pop3s_port = pop3_port, pop3s_port
        self.gateway, self.backend, self.aux = gateway, backend, aux
        self.logs = list(logs)
        self.alive = alive or (lambda: True)


class LogWatch:
    """Problem lines a run added to a target's logs."""

    def __init__(self, target):
        self.target = target
        self.offsets = {path: _size(path) for path in target.logs}

    def problems(self, limit=5):
        pattern = LOG_PROBLEMS.get(self.target.name)
        count, samples = 0, []
        for path, offset in self.offsets.items():
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    data = f.read(64 * 1024 * 1024)
            except OSError:
                continue
            for line in data.splitlines():
                if pattern and pattern.search(line):
                    count += 1
                    if len(samples) < limit:
                        samples.append(line.decode("utf-8", "replace")[:300])
        return {"count": count, "samples": samples}


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class Meter:
    """CPU of a target's process groups and of the machine between start() and stop()."""

    def __init__(self, target):
        self.target = target

    def start(self):
        t = self.target
        self.t0 = time.monotonic()
        self.load = procstat.loadavg()
        self.machine0 = procstat.MachineCpu.busy_seconds()
        self.gw_user0, self.gw_sys0 = t.gateway.cpu_split()
        self.gw0 = self.gw_user0 + self.gw_sys0
        self.gw_activity0 = t.gateway.activity()
        self.be0 = t.backend.cpu() if t.backend else 0.0
        self.aux0 = t.aux.cpu() if t.aux else 0.0
        self.logs = LogWatch(t)
        return self

    def stop(self, loadgen_cpu_s=0.0):
        t = self.target
        wall = time.monotonic() - self.t0
        gw_user, gw_sys = t.gateway.cpu_split()
        gateway = gw_user + gw_sys - self.gw0
        reads, writes, switches = procstat.activity_since(self.gw_activity0, t.gateway.activity())
        backend = (t.backend.cpu() - self.be0) if t.backend else 0.0
        aux = (t.aux.cpu() - self.aux0) if t.aux else 0.0
        machine = procstat.MachineCpu.busy_seconds() - self.machine0
        known = gateway + backend + aux + loadgen_cpu_s
        return {
            "wall_s": round(wall, 3),
            "gateway_cpu_s": round(gateway, 3),
            "gateway_user_s": round(gw_user - self.gw_user0, 3),
            "gateway_system_s": round(gw_sys - self.gw_sys0, 3),
            "gateway_read_calls": reads,
            "gateway_write_calls": writes,
            "gateway_switches": switches,
            "backend_cpu_s": round(backend, 3),
            "aux_cpu_s": round(aux, 3),
            "machine_busy_s": round(machine, 3),
            # Busy CPU not explained by the target, its backend, helpers or the load generator:
            # other work on the machine (other users' builds, ...) while this run measured.
            "other_cpu_pct": round(100.0 * max(machine - known, 0.0) / wall, 1) if wall else 0,
            "loadavg_before": self.load,
            "log_problems": self.logs.problems(),
            "target_alive_after": t.alive(),
        }


class Runner:
    def __init__(self, loadgen, results_dir, log=print):
        self.loadgen, self.results_dir, self.log = loadgen, results_dir, log
        self.records = []

    def save(self, record):
        record.setdefault("started", round(time.time(), 3))
        self.records.append(record)
        with open(os.path.join(self.results_dir, record["run"] + ".json"), "w") as f:
            json.dump(record, f, indent=1)

    def _loadgen(self, args, timeout):
        command = [self.loadgen] + [str(a) for a in args]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            return command, None, f"loadgen timed out after {timeout} s: {e.stderr!r:.300}"
        if done.returncode != 0:
            return command, None, f"loadgen exit {done.returncode}: {done.stderr.decode()[-500:]}"
        try:
            return command, json.loads(done.stdout), done.stderr.decode()[-2000:]
        except ValueError:
            return command, None, f"loadgen printed no JSON: {done.stdout[:300]!r}"

    # A run of at least this long with more than this share of one core busy with other
    # people's work is repeated (at most DISTURBED_RETRIES times); the disturbed record is kept
    # as <run>.disturbed-<n>.json. Shorter runs are not judged: /proc counts in 10 ms ticks.
    DISTURBED_PCT, DISTURBED_MIN_WALL_S, DISTURBED_RETRIES = 15.0, 2.0, 2

    def _disturbed(self, record):
        m = record["measure"]
        return (m["wall_s"] >= self.DISTURBED_MIN_WALL_S
                and m["other_cpu_pct"] > self.DISTURBED_PCT)

    def _retrying(self, run, attempt):
        """Runs attempt() until it is not disturbed (or retries run out); returns the record."""
        for n in range(self.DISTURBED_RETRIES + 1):
            record = attempt()
            if not self._disturbed(record) or n == self.DISTURBED_RETRIES:
                return record
            self.log(f"  {run:28s} disturbed: {record['measure']['other_cpu_pct']}% of a core "
                     "busy with other work; repeating")
            os.replace(os.path.join(self.results_dir, run + ".json"),
                       os.path.join(self.results_dir, f"{run}.disturbed-{n + 1}.json"))
            self.records.remove(record)
        return record

    def measured(self, run, target, args, timeout, extra=None):
        return self._retrying(run, lambda: self._measured(run, target, args, timeout, extra))

    def big(self, run, target, args, timeout):
        return self._retrying(run, lambda: self._big(run, target, args, timeout))

    def _measured(self, run, target, args, timeout, extra=None):
        """One load generator run against `target`, with the target's CPU around it."""
        meter = Meter(target).start()
        command, result, note = self._loadgen(args, timeout)
        lg_cpu = (result or {}).get("loadgen_cpu", {}).get("cpu_s", 0.0)
        record = {"run": run, "target": target.name, "command": command, "loadgen": result,
                  "note": note, "measure": meter.stop(lg_cpu)}
        record["measure"].update(extra or {})
        self.save(record)
        self._say(record)
        return record

    def _big(self, run, target, args, timeout):
        """A big-message run: also the peak RSS growth of the target's processes."""
        meter = Meter(target).start()
        with procstat.PeakGrowth(target.gateway) as peak:
            command, result, note = self._loadgen(args, timeout)
        lg_cpu = (result or {}).get("loadgen_cpu", {}).get("cpu_s", 0.0)
        record = {"run": run, "target": target.name, "command": command, "loadgen": result,
                  "note": note, "measure": meter.stop(lg_cpu)}
        record["measure"].update({"rss_growth_kib": peak.growth_kib,
                                  "rss_growth_existing_kib": peak.existing_kib,
                                  "rss_growth_new_processes_kib": peak.born_kib,
                                  "new_processes": len(peak.born_peak)})
        self.save(record)
        self._say(record)
        return record

    def idle(self, run, target, args, timeout):
        """Open and hold connections; the target's memory is read while they are held."""
        gw = target.gateway
        before = {"rss_kib": gw.rss(), "anon_kib": gw.anon(), "pss_kib": gw.pss(),
                  "processes": gw.count()}
        ready = os.path.join(self.results_dir, f".{run}.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        meter = Meter(target).start()
        command = [self.loadgen] + [str(a) for a in args] + ["--ready-file", ready]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=_die_with_parent)
        during = None
        try:
            if procstat.sleep_until(lambda: os.path.exists(ready) or proc.poll() is not None,
                                    timeout):
                time.sleep(1.0)  # let the target settle (Dovecot may start login processes)
                if proc.poll() is None:
                    during = {"rss_kib": gw.rss(), "anon_kib": gw.anon(), "pss_kib": gw.pss(),
                              "processes": gw.count()}
            if proc.poll() is None:
                proc.send_signal(signal.SIGUSR1)
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        finally:
            if os.path.exists(ready):
                os.unlink(ready)
        try:
            result = json.loads(out)
        except ValueError:
            result = None
        lg_cpu = (result or {}).get("loadgen_cpu", {}).get("cpu_s", 0.0)
        record = {"run": run, "target": target.name, "command": command, "loadgen": result,
                  "note": err.decode()[-2000:], "measure": meter.stop(lg_cpu)}
        held = (result or {}).get("established", 0)
        m = record["measure"]
        m["before"], m["during"] = before, during
        if during and held:
            m["rss_per_conn_kib"] = round((during["rss_kib"] - before["rss_kib"]) / held, 2)
            m["anon_per_conn_kib"] = round((during["anon_kib"] - before["anon_kib"]) / held, 2)
            m["pss_per_conn_kib"] = round((during["pss_kib"] - before["pss_kib"]) / held, 2)
        self.save(record)
        self._say(record)
        time.sleep(2.0)  # the target frees the connections before the next run measures it
        return record

    def rabid(self, run, target, users_file, processes, seconds, workdir):
        """postal's rabid against a target for `seconds`. rabid 0.75 never printed its
        once-a-minute report here, so its sessions are counted where they land: the successful
        logins the target (nginx: its Dovecot backend) logged during the run."""
        os.makedirs(workdir, exist_ok=True)
        command = ["rabid", "-p", str(processes), "-d", "0:0",
                   f"[127.0.0.1]{target.pop3_port}", users_file]
        log_path, pattern = target.login_log
        offset = _size(log_path)
        meter = Meter(target).start()
        proc = subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        rabid_target = procstat.Target("rabid", [proc.pid])
        cpu0 = rabid_target.cpu()
        t0 = time.monotonic()
        time.sleep(seconds)
        rabid_cpu = rabid_target.cpu() - cpu0
        wall = time.monotonic() - t0
        proc.kill()
        out, err = proc.communicate()
        measure = meter.stop(rabid_cpu)
        with open(log_path, "rb") as f:
            f.seek(offset)
            logins = sum(1 for line in f if pattern.search(line))
        errors = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
        record = {"run": run, "target": target.name, "command": command, "loadgen": None,
                  "rabid_stdout": out.decode(errors="replace").splitlines()[:20],
                  "rabid_stderr": errors[:20], "measure": measure,
                  "rabid": {"seconds": round(wall, 1), "logins": logins,
                            "sessions_per_s": round(logins / wall, 1), "errors": len(errors),
                            "rabid_cpu_s": round(rabid_cpu, 2),
                            "rabid_cpu_pct": round(100 * rabid_cpu / wall, 1)}}
        self.save(record)
        self.log(f"  {run:28s} {target.name:8s} {record['rabid']['sessions_per_s']:8.1f} "
                 f"sessions/s (logins in the target's log)  errors {len(errors)}  "
                 f"rabid cpu {record['rabid']['rabid_cpu_pct']}%")
        return record

    def _say(self, record):
        lg = record["loadgen"] or {}
        m = record["measure"]
        if lg.get("scenario") in ("poll", "bulk"):
            text = (f"{lg['sessions_per_s']:8.1f} sessions/s  {lg['mb_per_s']:8.1f} MB/s  "
                    f"p50 {lg['latency_ms'].get('p50', 0):7.1f} ms  p99 "
                    f"{lg['latency_ms'].get('p99', 0):7.1f} ms  errors {lg['errors_total']}")
        elif lg.get("scenario") in ("big", "imap-fetch"):
            text = (f"ok={lg.get('ok')} {lg.get('retr_s', 0):7.3f} s  "
                    f"rss +{m.get('rss_growth_kib', 0)} KiB")
        elif lg.get("scenario") == "idle":
            text = (f"{lg['established']}/{lg['connections']} held, "
                    f"{m.get('rss_per_conn_kib')} KiB/conn RSS, {m.get('anon_per_conn_kib')} anon")
        else:
            text = f"FAILED: {record.get('note')}"
        problems = m["log_problems"]["count"]
        self.log(f"  {record['run']:28s} {record['target']:8s} {text}  "
                 f"cpu gw {m['gateway_cpu_s']:.2f}s other {m['other_cpu_pct']}%"
                 + (f"  LOG PROBLEMS {problems}" if problems else "")
                 + ("" if m["target_alive_after"] else "  TARGET DIED"))


def _die_with_parent():
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
