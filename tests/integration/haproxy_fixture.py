"""A real HAProxy (Debian's haproxy 2.6, TCP mode) in front of popgate, for the tests of the
PROXY protocol and of replicas. Each test writes its own frontends and backends; this holds what
every one shares: the global and default settings, starting it until every port listens, stopping
it, its log."""

import os
import subprocess

import popgate_fixture as pf
from dovecot_sandbox import die_with_parent
from portwait import wait_for_port

DEFAULTS = ["global", "  maxconn 200", "defaults", "  mode tcp", "  timeout connect 10s",
            "  timeout client 120s", "  timeout server 120s"]


class HaProxy:
    def __init__(self, workdir, sections, ports, host=pf.HOST):
        """sections: the frontend and backend lines; ports: what they bind on `host`."""
        self.ports, self.host = list(ports), host
        self.config = os.path.join(workdir, "haproxy.cfg")
        self.log_path = os.path.join(workdir, "haproxy.log")
        with open(self.config, "w") as f:
            f.write("\n".join(DEFAULTS + list(sections)) + "\n")
        self.proc = None

    def start(self):
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", self.config],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         preexec_fn=die_with_parent)
        for port in self.ports:
            if not wait_for_port(port, pf.START_TIMEOUT_S, host=self.host, proc=self.proc):
                self.stop()
                raise RuntimeError(f"haproxy did not listen on {port}:\n{self.log_text()}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def log_text(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()
