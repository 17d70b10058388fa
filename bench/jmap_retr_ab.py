#!/usr/bin/env python3
"""A/B of two popgate binaries over JMAP, with popgate over IMAP beside them, on one sandbox
Cyrus: one client RETRs 100 messages of about 46 KB (the bulk mean) in order, QUITs, and the
three gateways take turns, ROUNDS times, so that whatever else runs on a shared machine hits
them alike. Prints each one's median MB/s and popgate's own CPU per GB, then strace -c of
three more sessions each: system calls per message.

    POPGATE_BASE=old/popgate POPGATE_NEW=build/popgate ROUNDS=9 bench/jmap_retr_ab.py

Needs root and the Cyrus of scripts/install-deps.sh (the integration tests' fixtures)."""
import os
import signal
import statistics
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from cyrus_fixture import CyrusGatewayTestCase, cs, imap_config, jmap_config  # noqa: E402

N, ROUNDS = 100, int(os.environ.get("ROUNDS", "7"))
BASE, NEW = os.environ.get("POPGATE_BASE"), os.environ.get("POPGATE_NEW")


def message(i):
    head = b"From: s@example.net\r\nSubject: ab %d\r\n\r\n" % i
    line = b"%05d abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n" % i
    return head + line * 640


class AB(CyrusGatewayTestCase):
    @classmethod
    def seed_mail(cls):
        cls.sandbox.seed(*cs.ALICE, [message(i) for i in range(N)])

    @classmethod
    def setUpClass(cls):
        os.environ["POPGATE_BIN"] = BASE
        super().setUpClass()
        cls.gws = {"jmap-base": cls.gateway}
        os.environ["POPGATE_BIN"] = NEW
        cls.gws["jmap-new"] = cls.start_gateway(jmap_config(cls.sandbox, cs.free_port()), "new")
        cls.gws["imap-new"] = cls.start_gateway(imap_config(cls.sandbox, cs.free_port()), "imap")

    def session(self, gw):
        conn = self.gateway_session(*cs.ALICE, port=gw.port)
        t = time.monotonic()
        total = 0
        for n in range(1, N + 1):
            total += len(conn.cmd_multi(f"RETR {n}"))
        conn.cmd("QUIT")
        return total / (time.monotonic() - t) / 1e6

    def test_ab(self):
        for gw in self.gws.values():
            self.session(gw)  # warm
        rates = {name: [] for name in self.gws}
        cpu = {name: 0 for name in self.gws}
        for _ in range(ROUNDS):
            for name, gw in self.gws.items():
                c0 = pf_cpu(gw.proc.pid)
                rates[name].append(self.session(gw))
                cpu[name] += pf_cpu(gw.proc.pid) - c0
        octets = ROUNDS * sum(len(message(i)) for i in range(N))
        for name, r in rates.items():
            print(f"AB {name:10s} MB/s median {statistics.median(r):6.2f}  popgate CPU "
                  f"{cpu[name] / os.sysconf('SC_CLK_TCK') / (octets / 1e9):6.2f} s/GB  all "
                  + " ".join(f"{x:.1f}" for x in r), flush=True)
        for name, gw in self.gws.items():
            out = os.path.join(self.workdir, f"strace-{name}.txt")
            tracer = subprocess.Popen(["strace", "-c", "-f", "-o", out, "-p", str(gw.proc.pid)])
            time.sleep(1)
            for _ in range(3):
                self.session(gw)
            time.sleep(0.3)
            tracer.send_signal(signal.SIGINT)
            tracer.wait()
            counts = {}
            for line in open(out).read().splitlines():
                parts = line.split()
                if len(parts) >= 5 and parts[3].isdigit():
                    counts[parts[-1]] = int(parts[3])
            per = {k: v / (3 * N) for k, v in counts.items()}
            top = sorted(per.items(), key=lambda kv: -kv[1])[:8]
            print(f"STRACE {name:10s} per message: total {per.get('total', 0):.1f}; "
                  + ", ".join(f"{k} {v:.2f}" for k, v in top if k != "total"), flush=True)


def pf_cpu(pid):
    """utime + stime of a process, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


if __name__ == "__main__":
    if not BASE or not NEW:
        sys.exit("set POPGATE_BASE and POPGATE_NEW to the two popgate binaries")
    unittest.main()
