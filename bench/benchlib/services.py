"""The four targets of the benchmark, all on 127.0.0.1 over one Dovecot Maildir store:

  dovecot   Dovecot's own POP3 reading the store (the sandbox Dovecot, tuned for load)
  imapc     a second Dovecot whose POP3 reads the first one over IMAP (mail_location = imapc:)
  nginx     nginx's mail proxy relaying POP3 to the sandbox's POP3, with an auth_http service
  popgate   popgate in front of the sandbox's IMAP

Each service starts in its own process group and stops with SIGTERM, then SIGKILL of the group.
imapc and nginx are in peer_gateways.py; the Cyrus targets in cyrus.py.
"""

import os
import shutil
import subprocess
import sys

from . import procstat

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import dovecot_sandbox  # noqa: E402  (path set just above)
from portwait import wait_for_port  # noqa: E402

HOST = dovecot_sandbox.HOST
START_TIMEOUT_S = 20
STOP_TIMEOUT_S = 10
free_port = dovecot_sandbox.free_port


def wait_greeting(port, prefix=b"+OK", timeout=START_TIMEOUT_S, proc=None):
    return wait_for_port(port, timeout, host=HOST, greeting=prefix, proc=proc)


def wait_listening(port, timeout=START_TIMEOUT_S):
    """True once a TCP connection to `port` succeeds (TLS ports: the server waits for us)."""
    return wait_for_port(port, timeout, host=HOST)


def make_certificate(directory):
    """A self-signed P-256 certificate for localhost/127.0.0.1 (every TLS listener uses it)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "30", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o644)  # Dovecot reads it as root, nginx as root: fine in a throw-away dir
    return cert, key


def fresh_workdir(work):
    """Wipes and recreates `work` (Dovecot's unprivileged processes must traverse it); returns
    the (cert, key) of make_certificate() in it. For the scripts beside bench.py."""
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    os.chmod(work, 0o755)
    return make_certificate(work)


class Process:
    """One supervised child process (own process group, dies with us)."""

    def __init__(self, name, argv, log_path, cwd=None):
        self.name, self.argv, self.log_path, self.cwd = name, argv, log_path, cwd
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, cwd=self.cwd, start_new_session=True,
                                         preexec_fn=dovecot_sandbox.die_with_parent)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        proc, self.proc = self.proc, None
        dovecot_sandbox.stop_process_group(proc, STOP_TIMEOUT_S)


# --- 1. the sandbox Dovecot: the store, its IMAP (for popgate and imapc) and its POP3 ---------

LOAD_SETTINGS = """
# --- appended by bench/benchlib/services.py: settings for load (docs/performance.md) ---
auth_verbose = no
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
mail_max_userip_connections = 100000
# Dovecot forks a mail process per session (its default, kept); login processes run in
# "high-performance mode" (service_count = 0: each serves many clients), as Dovecot's
# documentation recommends for busy servers, and must hold 10,000 idle clients.
default_process_limit = 1000
default_client_limit = 20000
default_vsz_limit = 2G
service pop3-login {{
  inet_listener pop3s {{
    address = {host}
    port = {pop3s_port}
  }}
  service_count = 0
  process_min_avail = 2
  client_limit = 12000
}}
service imap-login {{
  service_count = 0
  process_min_avail = 2
  client_limit = 12000
}}
service pop3 {{
  process_limit = 1000
}}
service imap {{
  process_limit = 1000
}}
"""


class StoreDovecot(dovecot_sandbox.Sandbox):
    """scripts/dovecot_sandbox.py's Dovecot with the bench users and LOAD_SETTINGS."""

    def __init__(self, directory, users, cert, key):
        super().__init__(directory)
        self.bench_users, self.cert, self.key = users, cert, key
        self.pop3s_port = None

    def _write_files(self):
        super()._write_files()
        self.pop3s_port = free_port()
        home = os.path.join(self.dir, "home")
        with open(os.path.join(self.dir, "users"), "a", encoding="utf-8") as f:
            for user, password in self.bench_users.items():
                f.write(f"{user}:{{PLAIN}}{password}:{self.uid}:{self.gid}::{home}/{user}::\n")
        with open(self.config_path, "a", encoding="utf-8") as f:
            f.write(LOAD_SETTINGS.format(host=HOST, cert=self.cert, key=self.key,
                                         pop3s_port=self.pop3s_port))

    def start(self):
        super().start()
        if not wait_listening(self.pop3s_port, 5):
            raise RuntimeError(f"Dovecot POP3S not listening; log {self.log_path}")
        return self

    def target(self):
        return procstat.Target("dovecot", [self.proc.pid])


# --- 4. popgate in front of the sandbox's IMAP --------------------------------------------------

POPGATE_CONFIG = """\
# Generated by bench/benchlib/services.py
tls:
  certificates:
    - cert: {cert}
      key: {key}
      server_names: [localhost]
listeners:
  - name: pop3
    address: {host}
    port: {pop3_port}
  - name: pop3s
    address: {host}
    port: {pop3s_port}
    tls: implicit
session:
  idle_timeout_s: 600
backends:
  local:
{backend}routing:
  default_backend: local
# Every client of the bench is 127.0.0.1: the per-address default (256) would drop the idle
# scenario's 10,000 connections, and the total default (10,000) the 2,000 TLS ones after them.
limits:
  max_connections: 0
  max_connections_per_address: 0
log:
  level: info
{extra}"""


IMAP_BACKEND = """\
    type: imap
    host: {host}
    port: {port}
    mailbox: INBOX
"""


class Popgate:
    """popgate with one backend, `local`: the IMAP server at imap_port, or `backend_yaml` (the
    backend's keys, indented by four spaces)."""

    def __init__(self, directory, binary, imap_port, cert, key, extra_yaml="", backend_yaml=None,
                 name="popgate"):
        self.dir = os.path.abspath(directory)
        self.binary, self.imap_port, self.cert, self.key = binary, imap_port, cert, key
        self.extra_yaml, self.name = extra_yaml, name
        self.backend_yaml = backend_yaml or IMAP_BACKEND.format(host=HOST, port=imap_port)
        self.pop3_port = self.pop3s_port = None
        self.process = None
        self.config_path = os.path.join(self.dir, "popgate.yaml")

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        self.pop3_port, self.pop3s_port = free_port(), free_port()
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(POPGATE_CONFIG.format(host=HOST, cert=self.cert, key=self.key,
                                          backend=self.backend_yaml, pop3_port=self.pop3_port,
                                          pop3s_port=self.pop3s_port, extra=self.extra_yaml))
        self.process = Process(self.name, [self.binary, "--config", self.config_path],
                               os.path.join(self.dir, "popgate.log")).start()
        if not wait_greeting(self.pop3_port, proc=self.process.proc):
            raise RuntimeError(f"popgate did not start; see {self.dir}/popgate.log")
        return self

    def stop(self):
        if self.process:
            self.process.stop()

    def alive(self):
        return self.process is not None and self.process.alive()

    def target(self):
        return procstat.Target(self.name, [self.process.pid])
