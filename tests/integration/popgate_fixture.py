"""Shared harness for popgate's integration tests.

- Popgate: writes a YAML config into a temp dir, runs $POPGATE_BIN --config FILE, waits for its
  POP3 port, stops it (SIGTERM, then SIGKILL after 5 s). With POPGATE_SELFTEST=1 it starts
  nothing and hands out Dovecot's own POP3 port instead, to prove the tests themselves.
- RawPop3 (pop3_client.py, re-exported here): a socket POP3 client that returns responses as
  the exact bytes on the wire.
- GatewayTestCase: a Dovecot sandbox + popgate per test class; prints logs when a test fails.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import dovecot_sandbox  # noqa: E402  (path set just above)
from portwait import wait_for_port  # noqa: E402

HOST = dovecot_sandbox.HOST
SELFTEST = os.environ.get("POPGATE_SELFTEST") == "1"
# Waits that end as soon as what they wait for happens: generous, because a loaded machine
# (ctest -j2, the ASan build, Dovecot's own processes) can take seconds where an idle one takes
# milliseconds, and a long bound costs nothing when the wait succeeds.
START_TIMEOUT_S = 60
# scripts/deep_checks.sh gives popgate under valgrind or TSan longer to exit by itself.
KILL_AFTER_S = float(os.environ.get("POPGATE_KILL_AFTER_S", "5"))

# Every secret a test gives popgate (passwords, tokens, digests, AUTH payloads): no popgate log
# may contain one, raw or in the log's escaped form, at any level. Popgate.stop() checks its log
# (the whole suite runs at log.level trace unless a test sets another level).
SECRETS = {password for _, password in dovecot_sandbox.USERS.items()}


def add_secret(*secrets):
    SECRETS.update(s for s in secrets if s)


def log_escaped(text):
    """What popgate's logText() makes of `text`: bytes outside printable ASCII and the
    backslash as \\xHH."""
    out = []
    for byte in text.encode("utf-8"):
        out.append(chr(byte) if 0x20 <= byte < 0x7F and byte != 0x5C else f"\\x{byte:02x}")
    return "".join(out)


def leaked_secrets(log):
    return sorted(s for s in SECRETS if len(s) >= 6 and (s in log or log_escaped(s) in log))


CLIENT_TIMEOUT_S = 180  # a real client (curl, fetchmail, ...) run to completion


# --- config ---------------------------------------------------------------------------------

def to_yaml(value, indent=0):
    """Block-style YAML for dicts, lists and scalars (no PyYAML: stdlib only).
    Strings are JSON-quoted, which YAML reads the same way."""
    pad = " " * indent
    out = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{key}:\n{to_yaml(item, indent + 2)}")
            else:
                out.append(f"{pad}{key}: {_scalar(item)}\n")
    else:
        for item in value:
            body = to_yaml(item, indent + 2) if isinstance(item, (dict, list)) else \
                f"{pad}  {_scalar(item)}\n"
            out.append(f"{pad}- {body[indent + 2:]}")
    return "".join(out)


def _scalar(item):
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (int, float)):
        return str(item)
    if isinstance(item, (dict, list)):
        return "{}" if isinstance(item, dict) else "[]"
    return json.dumps(item, ensure_ascii=False)


def base_config(imap_port, pop3_port, idle_timeout_s=600):
    """The documented config shape, one local IMAP backend."""
    return {
        "listeners": [{"name": "pop3", "address": HOST, "port": pop3_port}],
        "session": {"idle_timeout_s": idle_timeout_s},
        "backends": {"local": {"type": "imap", "host": HOST, "port": imap_port,
                               "mailbox": "INBOX"}},
        "routing": {"default_backend": "local", "separators": "@+",
                    "domains": {"example.org": {"backend": "local", "upstream_user": "full"}}},
    }


def vm_kib(pid, field):
    """A memory figure of a process from /proc/PID/status, in KiB (VmRSS, VmHWM, ...)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def read_body_slowly(conn, expected, slow_bytes=16 * 1024 * 1024):
    """After a RETR's status line: reads `expected` bytes (the message and ".\r\n"), slowly for
    the first `slow_bytes` so that back-pressure, not the client's speed, bounds the gateway.
    Returns the SHA-256 hex digest of what came; raises if the connection closes first."""
    digest = hashlib.sha256()
    data, conn.buf = conn.buf, b""
    received = 0
    while True:
        digest.update(data)
        received += len(data)
        if received >= expected:
            break
        if received < slow_bytes:
            time.sleep(0.002)
        data = conn.sock.recv(64 * 1024)
        if not data:
            raise ConnectionError(f"connection closed inside RETR after {received} bytes")
    if received != expected:
        raise AssertionError(f"RETR sent {received} bytes, expected {expected}")
    return digest.hexdigest()


def sanitized(pid):
    """True if the process runs with AddressSanitizer (its allocator keeps freed memory in a
    quarantine) or ThreadSanitizer (its allocator and shadow memory): its RSS then says little
    about popgate's own buffers."""
    if os.environ.get("TSAN_OPTIONS"):  # scripts/deep_checks.sh: Clang links TSan statically
        return True
    with open(f"/proc/{pid}/maps") as f:
        return any("libasan" in line or "libtsan" in line for line in f)


class Popgate:
    """One popgate process (or, in self-test mode, a stand-in for it)."""

    def __init__(self, workdir, sandbox, config, name="popgate"):
        self.workdir, self.sandbox, self.config = workdir, sandbox, config
        self.config_path = os.path.join(workdir, f"{name}.yaml")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.proc = None
        self.port = config["listeners"][0]["port"]

    def start(self):
        # Tests send wrong passwords on purpose, all from 127.0.0.1: no brute-force delay or
        # refusal unless a test sets limits itself (the Dovecot sandbox sets
        # auth_failure_delay = 0 for the same reason).
        config = dict(self.config)
        config.setdefault("limits", {"failed_logins": {"first_delay_ms": 0, "refuse_after": 0}})
        config.setdefault("log", {"level": "trace"})
        if os.environ.get("POPGATE_WORKERS"):  # scripts/deep_checks.sh: TSan with 4 loops
            config.setdefault("workers", int(os.environ["POPGATE_WORKERS"]))
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(to_yaml(config))
        if SELFTEST:
            self.port = self.sandbox.pop3_port
            return self
        binary = os.environ.get("POPGATE_BIN")
        if not binary:
            raise RuntimeError("set POPGATE_BIN to the popgate binary (or POPGATE_SELFTEST=1)")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([binary, "--config", self.config_path],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         preexec_fn=dovecot_sandbox.die_with_parent)
        # Every loopback listener, not only the first: a slow start (valgrind, TSan) opens them
        # one by one.
        ports = [listener["port"] for listener in config["listeners"]
                 if listener.get("address") == HOST]
        for port in ports:
            if not wait_for_port(port, START_TIMEOUT_S, host=HOST, proc=self.proc):
                self.stop()
                raise RuntimeError(f"popgate did not listen on {port}:\n{self.log_text()}")
        return self

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(KILL_AFTER_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        leaked = leaked_secrets(self.log_text())
        if leaked:
            raise AssertionError(f"{self.log_path} contains {len(leaked)} test secret(s): "
                                 + ", ".join(repr(s[:3] + "...") for s in leaked))

    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return "(no popgate log: self-test mode)" if SELFTEST else "(no popgate log)"


from pop3_client import (IO_TIMEOUT_S, TERMINATOR, RawPop3, first_difference,  # noqa: E402,F401
                         login_retrying_in_use, pop3_form, stored_form, unstuff,
                         wait_until_free)


# --- test base --------------------------------------------------------------------------------

class GatewayTestCase(unittest.TestCase):
    """setUpClass: fresh temp dir, Dovecot sandbox, popgate with base_config().
    Subclasses may override gateway_config() or start more gateways with start_gateway()."""

    sandbox = None
    workdir = None
    gateways = ()

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix=f"popgate-{cls.__name__}-")
        os.chmod(cls.workdir, 0o755)  # Dovecot's unprivileged processes work below it
        cls.gateways = []
        try:
            cls.sandbox = cls.make_sandbox()
            cls.seed_mail()
            cls.gateway = cls.start_gateway(cls.gateway_config())
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for gw in cls.gateways:
            gw.stop()
        if cls.sandbox is not None:
            cls.sandbox.stop()
        if cls.workdir and os.environ.get("POPGATE_KEEP_TMP") != "1":
            shutil.rmtree(cls.workdir, ignore_errors=True)

    @classmethod
    def make_sandbox(cls):
        """Hook: the store under test, started (Dovecot here; the JMAP tests start Cyrus)."""
        return dovecot_sandbox.Sandbox(os.path.join(cls.workdir, "dovecot"),
                                       **cls.sandbox_options()).start()

    @classmethod
    def sandbox_options(cls):
        """Hook: extra Sandbox() arguments, e.g. tls=(cert, key); cls.workdir exists already."""
        return {}

    @classmethod
    def seed_mail(cls):
        """Hook: put mail in the sandbox before the gateway starts."""

    @classmethod
    def gateway_config(cls):
        return base_config(cls.sandbox.imap_port, dovecot_sandbox.free_port())

    @classmethod
    def start_gateway(cls, config, name=None):
        name = name or f"popgate{len(cls.gateways)}"
        gw = Popgate(cls.workdir, cls.sandbox, config, name)
        cls.gateways.append(gw)
        return gw.start()

    @property
    def port(self):
        return self.gateway.port

    def connect(self, port=None):
        conn = RawPop3(port or self.port)
        self.addCleanup(conn.close)
        return conn

    def gateway_session(self, user, password, port=None):
        """Logged in through the gateway (waiting out a lock left by an earlier test)."""
        conn = login_retrying_in_use(port or self.port, user, password)
        self.addCleanup(conn.close)
        return conn

    def assertMessages(self, expected, actual, client):
        self.assertEqual(len(actual), len(expected), f"{client}: number of messages")
        for n, (want, got) in enumerate(zip(expected, actual), 1):
            self.assertTrue(want == got, f"{client}, message {n}: {first_difference(want, got)}")

    def run_client(self, argv, stdin=None, env=None):
        """Runs a real client to completion: (exit code, stdout bytes, stderr bytes)."""
        proc = subprocess.run(argv, input=stdin, env=env, capture_output=True,
                              timeout=CLIENT_TIMEOUT_S)
        return proc.returncode, proc.stdout, proc.stderr

    def tmpdir(self, name):
        path = os.path.join(self.workdir, name)
        os.makedirs(path)
        return path

    def connect_dovecot(self):
        """Dovecot's own POP3 on the same mailboxes: the reference."""
        conn = RawPop3(self.sandbox.pop3_port)
        self.addCleanup(conn.close)
        return conn

    def run(self, result=None):
        # Print the gateway's log (and Dovecot's tail) under a failing test, not for passing ones.
        before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > before:
            for gw in self.gateways:
                sys.stderr.write(f"\n----- {gw.log_path} -----\n{gw.log_text()[-20000:]}\n")
            if self.sandbox:
                tail = "".join(self.sandbox.log_text().splitlines(True)[-30:])
                sys.stderr.write(f"----- store log (last 30 lines) -----\n{tail}\n")
        return out
