#!/usr/bin/python3
"""popgate's benchmark: four POP3 targets over one Dovecot store, every scenario, one report.

Run it through bench/run.sh (which installs the packages and builds first):
    bench/run.sh [--quick] [--scenarios poll,bulk,big,idle,rabid] [--targets dovecot,popgate]
    bench/run.sh --scenarios huge     (a 100,000-message mailbox: bench/huge_mailbox.py)
    bench/run.sh ... --rounds N       (poll and bulk cells N times, targets taking turns: medians)

Targets (all on 127.0.0.1, all serving the same Maildir store):
  dovecot  Dovecot's own POP3 reading the store (no gateway hop: the ceiling)
  imapc    Dovecot's POP3 with the imapc backend against the Dovecot IMAP server
  nginx    nginx's mail proxy relaying POP3 to Dovecot's POP3, with a tiny auth_http service
  popgate  popgate against the Dovecot IMAP server
and, on a Cyrus store started only when one of them is selected (benchlib/cyrus.py; not in the
default set): popgate-jmap, popgate-cyrus-imap, cyrus-pop3d.

Writes bench/results/<timestamp>/{*.json,summary.md} and (full runs only) bench/results/latest.md, prints the
summary. docs/performance.md explains every figure.
"""

import datetime
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import (corpus, cyrus, machine, peer_gateways, procstat, report,  # noqa: E402
                      services)
from benchlib.options import (ALL_SCENARIOS, ALL_TARGETS, BIG_FAST_REPEATS, BIG_MIB,  # noqa: E402
                             BULK_MESSAGES, BULK_USERS, KNOWN_TARGETS, PLANS, POLL_USERS, REPO,
                             SKIPPED, parse_args)
from benchlib.runner import Runner, TargetInfo  # noqa: E402


def log(text=""):
    print(text, flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.plan = dict(PLANS["quick" if args.quick else "full"], rounds=max(1, args.rounds))
        self.services = []
        self.targets = {}
        self.popgates = {}  # target name -> (popgate service, its TargetInfo maker)
        self.wants_cyrus = any(t in cyrus.TARGETS for t in args.targets)
        self.cyrus = None

    # --- setup ---------------------------------------------------------------------------------

    def start(self):
        """Work directory, certificate, the store with its corpus, then the gateways."""
        a = self.args
        work = a.workdir
        if os.path.exists(work):
            shutil.rmtree(work)
        os.makedirs(work)
        os.chmod(work, 0o755)
        self.cert, self.key = services.make_certificate(work)
        users = {u: corpus.PASSWORD for u in
                 corpus.users_of("poll", POLL_USERS) + corpus.users_of("bulk", BULK_USERS) + ["big"]}
        log("==> starting the store: Dovecot (IMAP and POP3)")
        self.store = services.StoreDovecot(os.path.join(work, "store"), users, self.cert, self.key)
        self.services.append(self.store)
        self.store.start()
        log("==> seeding the corpus (Maildir files written directly, then indexed by Dovecot)")
        self.corpus = corpus.seed(self.store.dir, self.store.uid, self.store.gid,
                                  corpus.users_of("poll", POLL_USERS),
                                  corpus.users_of("bulk", BULK_USERS), BULK_MESSAGES, BIG_MIB,
                                  self.store.config_path)
        log(f"    {json.dumps(self.corpus)}")
        if self.wants_cyrus:
            log("==> starting the Cyrus store (IMAP, POP3, JMAP); seeding it over IMAP")
            self.cyrus = cyrus.CyrusSide(work, users, a, self.cert, self.key)
            self.services.append(self.cyrus.store)
            self.corpus["cyrus"] = self.cyrus.start_and_seed(POLL_USERS, BULK_USERS, BULK_MESSAGES)
            log(f"    {json.dumps(self.corpus['cyrus'])}")
        self.start_gateways()
        with open(os.path.join(work, "poll-users.txt"), "w") as f:
            f.writelines(f"{u} {corpus.PASSWORD}\n" for u in corpus.users_of("poll", POLL_USERS))
        with open(os.path.join(work, "bulk-users.txt"), "w") as f:
            f.writelines(f"{u} {corpus.PASSWORD}\n" for u in corpus.users_of("bulk", BULK_USERS))

    def start_gateways(self):
        """imapc, nginx and popgate in front of the (running) store; (re)builds the targets."""
        a, work, store = self.args, self.args.workdir, self.store
        cert, key = self.cert, self.key
        targets = {}
        store_target = store.target()
        dovecot_login = re.compile(rb"pop3-login: Info: Login: ")
        targets["dovecot"] = TargetInfo("dovecot", "Dovecot POP3 (native)", store.pop3_port,
                                        store.pop3s_port, store_target, logs=[store.log_path],
                                        login_log=(store.log_path, dovecot_login))
        if "imapc" in a.targets:
            log("==> starting Dovecot POP3 over imapc")
            imapc = peer_gateways.ImapcDovecot(os.path.join(work, "imapc"), store.imap_port, cert,
                                               key)
            self.services.append(imapc)
            imapc.start()
            targets["imapc"] = TargetInfo(
                "imapc", "Dovecot POP3 via imapc", imapc.pop3_port, imapc.pop3s_port,
                imapc.target(), backend=store_target,
                logs=[os.path.join(imapc.dir, "dovecot.log")],
                login_log=(os.path.join(imapc.dir, "dovecot.log"), dovecot_login))
        if "nginx" in a.targets:
            log("==> starting nginx's mail proxy and its auth_http service")
            nginx = peer_gateways.Nginx(os.path.join(work, "nginx"), store.pop3_port, cert, key,
                                        workers=a.workers)
            self.services.append(nginx)
            nginx.start()
            targets["nginx"] = TargetInfo(
                "nginx", "nginx mail proxy", nginx.pop3_port, nginx.pop3s_port, nginx.target(),
                backend=store_target, aux=nginx.aux_target(),
                logs=[os.path.join(nginx.dir, "error.log")],
                # nginx logs no logins; every relayed session logs in to the Dovecot behind it.
                login_log=(store.log_path, dovecot_login))
        self.targets = targets
        if "popgate" in a.targets:
            log("==> starting popgate")
            self.popgate = services.Popgate(os.path.join(work, "popgate"), a.popgate,
                                            store.imap_port, cert, key,
                                            extra_yaml=f"workers: {a.workers}\n")
            self.services.append(self.popgate)
            self.popgate.start()
            self.popgates["popgate"] = (self.popgate, self._popgate_target)
            self.targets["popgate"] = self._popgate_target()
        if self.cyrus:
            self.targets.update(self.cyrus.start_targets(self.services))
            for name, pg in self.cyrus.popgates.items():
                self.popgates[name] = (pg, lambda name=name: self.cyrus.popgate_target(name))
        self.targets = {t: self.targets[t] for t in a.targets}
        self.pin()

    def pin(self):
        """--pin: processes forked later (Dovecot's per-session ones) inherit their parent's CPU."""
        if not self.args.pin:
            return
        stores = [self.store.target()] + ([self.cyrus.store.target()] if self.cyrus else [])
        for store in stores:
            procstat.pin(store.pids(), 0)
        for t in self.targets.values():
            if all(t.gateway.roots != store.roots for store in stores):
                procstat.pin(t.gateway.pids(), 1)

    def restart_all(self):
        """Fresh processes for every target (the store too): freed heap that a process keeps
        would otherwise hide what the next connections cost."""
        log("==> restarting every server (fresh processes for the memory measurement)")
        self.stop()
        for store in [self.store] + ([self.cyrus.store] if self.cyrus else []):
            self.services.append(store)
            store.start()
        self.start_gateways()

    def _popgate_target(self):
        pg = self.popgate
        return TargetInfo(
            "popgate", "popgate", pg.pop3_port, pg.pop3s_port, pg.target(),
            backend=self.store.target(), logs=[os.path.join(pg.dir, "popgate.log")],
            alive=pg.alive,
            login_log=(os.path.join(pg.dir, "popgate.log"), re.compile(rb" login \S+ ok")))

    def check_popgate(self, runner):
        """A popgate died during a run: say so loudly, keep its log, restart it for the rest."""
        for name, (pg, make_target) in self.popgates.items():
            if name not in self.targets or pg.alive():
                continue
            code = pg.process.proc.returncode
            log(f"!!! {name} exited (code {code}) during the last run; restarting it")
            runner.records.append({"run": "popgate-crash", "target": name,
                                   "measure": {"exit_code": code}, "loadgen": None})
            shutil.copy(os.path.join(pg.dir, "popgate.log"),
                        os.path.join(self.results_dir, f"{name}-crash-{int(time.time())}.log"))
            pg.stop()
            pg.start()
            self.targets[name] = make_target()
            self.pin()

    def stop(self):
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as e:  # stopping must go on for the others
                log(f"stopping {service}: {e}")
        self.services = []

    def copy_configs(self):
        work = self.args.workdir
        for src, name in [("store/dovecot.conf", "dovecot-store.conf"),
                          ("imapc/dovecot.conf", "dovecot-imapc.conf"),
                          ("nginx/nginx.conf", "nginx.conf"),
                          ("popgate/popgate.yaml", "popgate.yaml")]:
            path = os.path.join(work, src)
            if os.path.exists(path):
                shutil.copy(path, os.path.join(self.results_dir, "config-" + name))
        for path, name in self.cyrus.configs() if self.cyrus else []:
            shutil.copy(path, os.path.join(self.results_dir, "config-" + name))

    # --- scenarios -------------------------------------------------------------------------------

    def cells(self, concurrencies):
        """(round, clients, target) in run order: each round runs every cell once, so that
        whatever else the machine does hits every target alike (the report takes medians)."""
        return [(r, c, t) for r in range(self.plan["rounds"]) for c in concurrencies
                for t in self.targets.values()]

    def run(self):
        a, plan = self.args, self.plan
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.results_dir = os.path.join(a.results, stamp)
        os.makedirs(self.results_dir)
        self.machine = machine.describe(REPO, a.popgate,
                                       self.wants_cyrus and cyrus.cyrus_version())
        started = time.monotonic()
        self.start()
        self.copy_configs()
        runner = Runner(a.loadgen, self.results_dir, log)
        work = a.workdir
        poll_users = os.path.join(work, "poll-users.txt")
        bulk_users = os.path.join(work, "bulk-users.txt")
        warm = plan["warmup_s"]

        for scenario, title, users, session_timeout, slack in (
                ("poll", "USER/PASS, UIDL (500 messages), QUIT", poll_users, 60, 90),
                ("bulk", "USER/PASS, LIST, RETR every message, QUIT", bulk_users, 120, 150)):
            if scenario not in a.scenarios:
                continue
            log(f"==> {scenario}: {title}")
            seconds = plan[f"{scenario}_s"]
            for r, c, t in self.cells(plan[f"{scenario}_concurrency"]):
                runner.measured(f"{scenario}-c{c}-{t.name}" + (f"-{r + 1}" if r else ""), t,
                                [scenario, "--port", t.pop3_port, "--users", users,
                                 "--concurrency", c, "--duration", seconds, "--warmup", warm,
                                 "--session-timeout", session_timeout, "--label", t.name],
                                timeout=seconds + warm + slack, extra={"concurrency": c})
                self.check_popgate(runner)
        if "big" in a.scenarios:
            log(f"==> big: RETR of a {BIG_MIB} MiB message; floor: IMAP UID FETCH BODY.PEEK[]")
            floor_args = ["imap-fetch", "--port", self.store.imap_port, "--user", "big",
                          "--password", corpus.PASSWORD, "--message", 1, "--label", "imap-floor"]

            def retr_args(t, rate):
                return ["big", "--port", t.pop3_port, "--user", "big", "--password",
                        corpus.PASSWORD, "--message", 1, "--read-rate", rate,
                        "--session-timeout", 150, "--label", t.name]

            # Slow reader: one run, memory sampled (its wall time is set by the read rate).
            rate = plan["slow_rate"]
            runner.measured("big-slow-floor", self._floor_target(),
                            floor_args + ["--read-rate", rate], timeout=180)
            for t in self.targets_for("big"):
                runner.big(f"big-slow-{t.name}", t, retr_args(t, rate), timeout=180)
                self.check_popgate(runner)
            # Fast reader: a RETR takes well under 0.1 s, so the timed runs (eleven each, the
            # report takes the median) run with nothing else sampling the machine, exactly as the
            # floor does: the memory sampler (a Python thread reading /proc every 10 ms) would
            # take CPU from the two cores during the targets' runs only. The memory of the fast
            # RETR comes from one more run per target, sampled and not timed.
            for repeat in range(BIG_FAST_REPEATS):
                suffix = f"-{repeat + 1}" if repeat else ""
                runner.measured(f"big-fast-floor{suffix}", self._floor_target(),
                                floor_args + ["--read-rate", 0], timeout=180)
                for t in self.targets_for("big"):
                    runner.measured(f"big-fast-{t.name}{suffix}", t, retr_args(t, 0), timeout=180)
                    self.check_popgate(runner)
            for t in self.targets_for("big"):
                runner.big(f"big-fastmem-{t.name}", t, retr_args(t, 0), timeout=180)
                self.check_popgate(runner)
        if "idle" in a.scenarios:
            for tls, n in ((False, plan["idle_plain"]), (True, plan["idle_tls"])):
                self.restart_all()
                log(f"==> idle: {n} {'TLS' if tls else 'plain'} connections held")
                for t in self.targets_for("idle"):
                    port = t.pop3s_port if tls else t.pop3_port
                    runner.idle(f"idle-{'tls' if tls else 'plain'}-{t.name}", t,
                                ["idle", "--port", port, "--connections", n, "--hold", 120,
                                 "--label", t.name] + (["--tls"] if tls else []), timeout=150)
                    self.check_popgate(runner)
        if "rabid" in a.scenarios:
            if not shutil.which("rabid"):
                log("==> rabid: not installed (Debian package postal)")
            else:
                log(f"==> rabid (postal): {plan['rabid_processes']} processes, "
                    f"CAPA, login, LIST, QUIT ('-d 0:0'), {plan['rabid_s']} s per target")
                for t in self.targets.values():
                    runner.rabid(f"rabid-{t.name}", t, poll_users, plan["rabid_processes"],
                                 plan["rabid_s"], os.path.join(work, "rabid", t.name))
                    self.check_popgate(runner)

        self.machine["elapsed_s"] = round(time.monotonic() - started)
        self.machine["loadavg_at_end"] = procstat.loadavg()
        self.machine["finished_at"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        text = report.summary(runner.records, self.machine, self.corpus, self.plan,
                              a.command_line or " ".join(sys.argv), list(self.targets))
        with open(os.path.join(self.results_dir, "summary.md"), "w") as f:
            f.write(text)
        with open(os.path.join(self.results_dir, "machine.json"), "w") as f:
            json.dump({"machine": self.machine, "corpus": self.corpus, "plan": self.plan,
                       "command": a.command_line or " ".join(sys.argv)}, f, indent=1)
        # latest.md is the last full run: a subset or a --quick run would replace it with less.
        full = not a.quick and a.scenarios == ALL_SCENARIOS and a.targets == ALL_TARGETS
        if full:
            with open(os.path.join(a.results, "latest.md"), "w") as f:
                f.write(text)
        log("")
        log(text)
        log(f"raw results: {self.results_dir}")

    def targets_for(self, scenario):
        return [t for t in self.targets.values() if t.name not in SKIPPED.get(scenario, ())]

    def _floor_target(self):
        return TargetInfo("imap-floor", "IMAP UID FETCH (floor)", self.store.imap_port, None,
                          self.store.target())


def main():
    args = parse_args(__doc__.split("\n\n")[0])
    if args.report_only:
        return print(report.rewrite(args.report_only, KNOWN_TARGETS))
    if os.geteuid() != 0:
        sys.exit("bench: run as root (Dovecot's mail processes switch users)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for path in (args.popgate, args.loadgen):
        if not os.access(path, os.X_OK):
            sys.exit(f"bench: {path} is missing: build first (bench/run.sh does)")
    lock = machine.lock_workdir(args.workdir)  # noqa: F841  (held until we exit)
    if "huge" in args.scenarios:
        subprocess.run([sys.executable, os.path.join(HERE, "huge_mailbox.py"), "--popgate",
                        args.popgate, "--workdir", args.workdir.rstrip("/") + "-huge",
                        "--results", args.results, "--command-line",
                        args.command_line or " ".join(sys.argv)], check=True)
        args.scenarios.remove("huge")
        if not args.scenarios:
            return
    bench = Bench(args)
    # SIGTERM and SIGINT unwind through the finally below; children die with us regardless.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        bench.run()
    except KeyboardInterrupt:
        log("bench: interrupted")
        sys.exit(130)
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
