#!/usr/bin/python3
"""A throw-away Cyrus IMAP 3.6 (IMAP, POP3 and JMAP on 127.0.0.1) for popgate's tests and bench.

Importable (tests) and a CLI:
    python3 scripts/cyrus_sandbox.py --dir DIR [--imap-port P] [--pop3-port Q] [--http-port R]
                                     [--tls-cert CERT --tls-key KEY] [--seed-sample]
runs until SIGINT/SIGTERM, then stops Cyrus. Port 0 (the default) picks a free port. With a
certificate and key (Sandbox(..., tls=(cert, key))), the HTTP port serves https only and
jmap_url is https://127.0.0.1:PORT/jmap/ (the certificate must name 127.0.0.1 as an IP SAN,
or pass url_host="localhost" for a DNS name). IMAP and POP3 stay plain.

Cyrus conflicts with dovecot-imapd as a Debian package, so scripts/install-deps.sh unpacks its
.debs (`dpkg -x`) into /opt/popgate-peers/cyrus (or $POPGATE_CYRUS_ROOT) and `master` runs
from there with LD_LIBRARY_PATH. Everything lives under DIR: imapd.conf, cyrus.conf, the config
directory (databases, locks, proc, sockets), the partition, the sasldb, the pid file, the logs.
Standard library only. Users: those of dovecot_sandbox.py, all four accepted (alice; bob with
spaces, quotes, backslash; carol@example.org as a virtual-domain user; dave's 8-bit password).
"""

# What this sandbox configures, and the facts about Cyrus it rests on: scripts/cyrus_config.py.

import argparse
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from cyrus_client import JMAP_USING, SEED_EPOCH, CyrusClient  # noqa: F401 (re-exported)
from cyrus_config import (CYRUS_CONF, CYRUS_USER, IMAPD_CONF, SERVERNAME, WRAPPER, cyrus_ids,
                          cyrus_root, sasl_name)
from dovecot_sandbox import (ALICE, BOB, CAROL, DAVE, HOST, USERS, die_with_parent, free_port,
                             sample_messages, stop_process_group, tricky_messages)
from portwait import wait_for_port

__all__ = ["Sandbox", "ALICE", "BOB", "CAROL", "DAVE", "USERS", "HOST", "free_port", "cyrus_root",
           "cyrus_messages", "sasl_name", "JMAP_USING", "SEED_EPOCH"]

START_TIMEOUT_S = 60  # ends as soon as every port answers; a loaded machine can take seconds
STOP_TIMEOUT_S = 10


def cyrus_messages():
    """The gateway tests' tricky corpus as Cyrus can store it: without the bare-LF message
    (refused on APPEND), plus sizes around the buffers of the HTTP path (a TLS record, the
    HTTP client's reads, the client write queue's watermarks). All byte-distinct: Cyrus keys
    JMAP Emails by content, so identical messages would be one Email."""
    out = [m for m in tricky_messages() if b"Subject: bare lf" not in m]
    for size in (16 * 1024 - 1, 16 * 1024 + 1, 64 * 1024, 256 * 1024 + 3):
        header = b"From: sizes@example.net\r\nSubject: %d octets\r\n\r\n" % size
        line = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!?\r\n"
        body = (line * (size // len(line) + 1))[:size - len(header) - 2] + b"\r\n"
        out.append(header + body)
    return out


class SyslogListener:
    """A datagram socket that takes the place of /dev/log: each message goes to a file."""

    def __init__(self, sock_path, log_path):
        self.path = sock_path
        self.log_path = log_path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if os.path.lexists(sock_path):
            os.unlink(sock_path)
        self.sock.bind(sock_path)
        os.chmod(sock_path, 0o666)  # Cyrus logs as the cyrus user
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True, name="cyrus-syslog")
        self.thread.start()

    def _run(self):
        with open(self.log_path, "ab", buffering=0) as out:
            while self.running:
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                # "<PRI>Mmm dd hh:mm:ss ident[pid]: text": the priority is of no use here.
                if data.startswith(b"<"):
                    data = data[data.find(b">") + 1:]
                out.write(data.rstrip(b"\0\n") + b"\n")

    def close(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


class Sandbox(CyrusClient):
    """One Cyrus master process. start() returns self; stop() is idempotent."""

    def __init__(self, directory, imap_port=0, pop3_port=0, http_port=0, capture_syslog=True,
                 tls=None, url_host=HOST):
        """tls: (cert_path, key_path), PEM: the HTTP port serves https only (httpd -s).
        url_host: the host in jmap_url (127.0.0.1 by default; e.g. "localhost" to have a
        client check a DNS name instead of an IP SAN). The sandbox's own HTTP helpers do not
        verify the certificate."""
        self.dir = os.path.abspath(directory)
        self.tls = tuple(tls) if tls else None
        self.url_host = url_host
        self.want_imap, self.want_pop3, self.want_http = imap_port, pop3_port, http_port
        self.imap_port = self.pop3_port = self.http_port = None
        self.capture_syslog = capture_syslog
        self.proc = None
        self.syslog = None
        self.root = cyrus_root()
        self.bin = os.path.join(self.root, "usr/lib/cyrus/bin")
        self.uid, self.gid = cyrus_ids()

    @property
    def config_path(self):
        return os.path.join(self.dir, "imapd.conf")

    @property
    def master_config_path(self):
        return os.path.join(self.dir, "cyrus.conf")

    @property
    def log_path(self):
        """What Cyrus sent to syslog (when captured), then master's stderr."""
        return os.path.join(self.dir, "cyrus.log")

    @property
    def stderr_path(self):
        return os.path.join(self.dir, "master.err")

    @property
    def pid_path(self):
        return os.path.join(self.dir, "run", "master.pid")

    @property
    def http_service(self):
        """The service's name in cyrus.conf (and in master's "unable to bind to NAME/" line)."""
        return "https" if self.tls else "http"

    @property
    def jmap_url(self):
        """The JMAP session resource (GET with Basic auth); apiUrl in it is "/jmap/" too."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.url_host}:{self.http_port}/jmap/"

    @property
    def tls_cert_path(self):
        return os.path.join(self.dir, "tls", "server.pem")

    @property
    def tls_key_path(self):
        return os.path.join(self.dir, "tls", "server.key")

    def log_text(self):
        text = ""
        for path in (self.log_path, self.stderr_path):
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    text += f.read()
            except FileNotFoundError:
                pass
        return text

    def _env(self):
        env = dict(os.environ)
        lib = os.path.join(self.root, "usr/lib/x86_64-linux-gnu")
        env["LD_LIBRARY_PATH"] = lib + (":" + env["LD_LIBRARY_PATH"]
                                        if env.get("LD_LIBRARY_PATH") else "")
        return env

    def _write_files(self):
        if not os.access(os.path.join(self.bin, "master"), os.X_OK):
            raise RuntimeError(f"no Cyrus in {self.root} (run scripts/install-deps.sh or set "
                               f"POPGATE_CYRUS_ROOT)")
        # Cyrus runs as the cyrus user: it must traverse DIR (mkdtemp makes it 0700).
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        parent = os.path.dirname(self.dir)
        while parent != "/":
            if not os.stat(parent).st_mode & 0o001:
                raise RuntimeError(f"{parent} is not world-searchable: Cyrus (user "
                                   f"{CYRUS_USER}) could not reach {self.dir}")
            parent = os.path.dirname(parent)
        for sub in ("conf", "conf/db", "conf/socket", "conf/proc", "conf/lock", "conf/msg", "spool",
                    "sieve", "run"):
            path = os.path.join(self.dir, sub)
            os.makedirs(path, exist_ok=True)
            os.chown(path, self.uid, self.gid)
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(IMAPD_CONF.format(dir=self.dir, cyrus_user=CYRUS_USER, servername=SERVERNAME))
            if self.tls:
                f.write(self._write_tls_files())
        with open(self.master_config_path, "w", encoding="utf-8") as f:
            f.write(CYRUS_CONF.format(bin=self.bin, conf=self.config_path, host=HOST,
                                      imap_port=self.imap_port, pop3_port=self.pop3_port,
                                      http_port=self.http_port, http_service=self.http_service,
                                      httpd_flags="-s " if self.tls else ""))
        self._write_sasldb()

    def _write_tls_files(self):
        """Copies the certificate and key under DIR/tls for the cyrus user (httpd reads them
        after dropping root); returns the imapd.conf lines naming them."""
        cert, key = self.tls
        os.makedirs(os.path.dirname(self.tls_cert_path), exist_ok=True)
        os.chown(os.path.dirname(self.tls_cert_path), self.uid, self.gid)
        for src, dst, mode in ((cert, self.tls_cert_path, 0o644), (key, self.tls_key_path, 0o600)):
            shutil.copyfile(src, dst)
            os.chown(dst, self.uid, self.gid)
            os.chmod(dst, mode)
        return (f"# https on the HTTP port (httpd -s in cyrus.conf).\n"
                f"tls_server_cert: {self.tls_cert_path}\n"
                f"tls_server_key: {self.tls_key_path}\n")

    def _write_sasldb(self):
        """The password store: a fresh sasldb (Berkeley DB, so saslpasswd2 writes it)."""
        sasldb = os.path.join(self.dir, "sasldb2")
        if os.path.exists(sasldb):
            os.unlink(sasldb)
        for user, password in USERS.items():
            name, realm = sasl_name(user)
            subprocess.run(["saslpasswd2", "-f", sasldb, "-p", "-c", "-u", realm, name],
                           input=password.encode(), check=True, stdout=subprocess.DEVNULL)
        os.chown(sasldb, self.uid, self.gid)
        os.chmod(sasldb, 0o640)

    def _stop_stale(self):
        """A master left by an earlier run on this DIR (e.g. a killed demo) would hold the ports
        and the databases."""
        try:
            with open(self.pid_path) as f:
                pid = int(f.read().split()[0])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError, IndexError):
            return
        if b"master" in cmdline and self.config_path.encode() in cmdline:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
                time.sleep(0.05)

    def _start_syslog(self):
        sock = os.path.join(self.dir, "run", "syslog.sock")
        if not self.capture_syslog or len(sock.encode()) > 100 or not shutil.which("unshare"):
            return None, None
        self.syslog = SyslogListener(sock, self.log_path)
        return sock, os.path.join(self.dir, "run", "dev")

    def start(self):
        self._stop_stale()
        # A port picked by free_port() can be taken before master binds it: retry then.
        for _ in range(5):
            self.imap_port = self.want_imap or free_port()
            self.pop3_port = self.want_pop3 or free_port()
            self.http_port = self.want_http or free_port()
            self._write_files()
            for path in (self.log_path, self.stderr_path):
                open(path, "w").close()
            sock, dev = self._start_syslog()
            master = [os.path.join(self.bin, "master"), "-C", self.config_path,
                      "-M", self.master_config_path, "-p", self.pid_path, "-L", self.stderr_path]
            cmd = ["sh", "-c", WRAPPER, "cyrus-sandbox", sock or "", dev or ""] + master
            if sock:
                cmd = ["unshare", "--mount"] + cmd
            # Own process group (a terminal's Ctrl-C goes to us; stop() takes the group down).
            with open(self.stderr_path, "ab") as stderr:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=stderr,
                                             env=self._env(), start_new_session=True,
                                             preexec_fn=die_with_parent)
            atexit.register(self.stop)
            if self._wait_ready(time.monotonic() + START_TIMEOUT_S):
                self._create_inboxes()
                return self
            self.stop()
            if not self._retry_bind():
                break
        raise RuntimeError(f"Cyrus did not start; logs {self.log_path}, {self.stderr_path}:\n"
                           f"{self.log_text()}")

    def _retry_bind(self):
        """True when master could not bind only ports that free_port() picked: try new ones."""
        log = self.log_text()
        if "unable to bind" not in log:
            return False
        wanted = {"imap": self.want_imap, "pop3": self.want_pop3,
                  self.http_service: self.want_http}
        return not any(f"unable to bind to {name}/" in log for name, port in wanted.items() if port)

    def _wait_ready(self, deadline):
        """IMAP and POP3 greet; the HTTP port answers a request (httpd is up, not just the
        listener master bound). A master that exited or failed to bind is not waited for."""
        for port, greeting in ((self.imap_port, b"* OK"), (self.pop3_port, b"+OK")):
            while not wait_for_port(port, min(1.0, deadline - time.monotonic()), host=HOST,
                                    greeting=greeting, proc=self.proc):
                if self.proc.poll() is not None or time.monotonic() >= deadline or \
                        "unable to bind" in self.log_text():
                    return False
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                status, _, _ = self.http("GET", "/jmap/", None, timeout=2)
                if status == 401:
                    return True
            except OSError:
                pass
            if "unable to bind" in self.log_text():
                return False
            time.sleep(0.05)
        return False

    def _create_inboxes(self):
        """autocreate_quota makes INBOX at an IMAP login; JMAP's first request wants it there."""
        for user in USERS:
            self.imap(user).logout()

    def stop(self):
        proc, self.proc = self.proc, None
        stop_process_group(proc)
        listener, self.syslog = self.syslog, None
        if listener is not None:
            listener.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, help="sandbox directory (created, reused)")
    parser.add_argument("--imap-port", type=int, default=0)
    parser.add_argument("--pop3-port", type=int, default=0)
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--tls-cert", help="PEM certificate: serve JMAP over https")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--seed-sample", action="store_true", help="put sample mail in alice's INBOX")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")

    # SIGTERM must unwind through the finally below like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sandbox = Sandbox(args.dir, args.imap_port, args.pop3_port, args.http_port,
                      tls=(args.tls_cert, args.tls_key) if args.tls_cert else None)
    ready = os.path.join(os.path.abspath(args.dir), "ready")
    try:
        if os.path.exists(ready):
            os.unlink(ready)
        sandbox.start()
        if args.seed_sample:
            sandbox.clear(ALICE[0])
            sandbox.seed(*ALICE, sample_messages())
        print(f"imap_port={sandbox.imap_port} pop3_port={sandbox.pop3_port} "
              f"http_port={sandbox.http_port} jmap_url={sandbox.jmap_url}", flush=True)
        # Scripts wait for this file rather than parsing our stdout.
        with open(ready, "w") as f:
            f.write(f"{sandbox.imap_port} {sandbox.pop3_port} {sandbox.http_port}\n")
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        if os.path.exists(ready):
            os.unlink(ready)
        sandbox.stop()


if __name__ == "__main__":
    main()
