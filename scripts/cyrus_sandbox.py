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

# Facts about Cyrus 3.6.1 (Debian 3.6.1-4+deb12u5) as this sandbox configures it, each checked
# with real requests here (tests/integration/test_cyrus_sandbox.py pins the main ones):
#
# Running it
# - master runs as the `cyrus` user (cyrus_user; it switches from root itself). `cyrus_user:
#   root` is refused (imapd, pop3d, httpd: "Fatal error: must run as the Cyrus user"), and so is
#   a user missing from /etc/passwd. master passes no -C to its children: every cmd in
#   cyrus.conf names the imapd.conf. Default sockets and the pid
#   file are moved under DIR (nothing written in /var or /run: checked with strace).
# - Logins go through SASL auxprop sasldb (saslpasswd2 -f DIR/sasldb2). The realm of a user
#   without a domain is `servername` ("localhost"); with `virtdomains: userid`, carol@example.org
#   is user carol in realm example.org. INBOX is made at the first IMAP/POP3 login
#   (autocreate_quota: 0); before that JMAP answers `accountNotFound`, so start() logs every
#   user in once. Wrong passwords: IMAP "NO Login failed: authentication failure", POP3
#   "-ERR [AUTH] Invalid login", at once with `failedloginpause: 0` (default 3 s).
# - It logs only to syslog. When `unshare` works, master runs in its own mount namespace whose
#   /dev/log is our socket: the lines land in DIR/cyrus.log. Start takes about 1.5 s.
# - APPEND of a message with a bare LF: "NO Message contains bare newlines".
#
# JMAP over https (Sandbox(..., tls=(cert, key)))
# - imapd.conf `tls_server_cert:` / `tls_server_key:` (PEM; an ECDSA P-256 key works) and the
#   service in cyrus.conf as `httpd -s` (TLS from the first byte, as for imaps/pop3s; named
#   `https` here, so it logs as popgate-cyrus/https). Nothing else is needed (no DH file: it
#   logs "inittls: Loading hard-coded DH parameters"); TLS 1.3, TLS_AES_256_GCM_SHA384. The
#   files are copied under DIR/tls owned by the cyrus user: httpd reads them after dropping
#   root. A plain-text request on that port gets "HTTP/1.0 500 ... Fatal error: Error
#   negotiating TLS" and a close. Same JMAP answers as over http (relative URLs; the login logs
#   as "Basic+TLS"). Each handshake logs "starttls: TLSv1.3 with cipher ... no
#   authentication", with "; application protocol = h2" when ALPN picked h2: httpd takes h2 if
#   the client offers it, http/1.1 if only that is offered, and no ALPN gets HTTP/1.1.
#
# JMAP (httpmodules: jmap, conversations: yes, conversations_db: twoskip)
# - Session resource: GET http://127.0.0.1:PORT/jmap/ (also /jmap without the slash);
#   /.well-known/jmap answers 301 with Location http://127.0.0.1:PORT/jmap. Session (alice):
#   {"username":"alice","apiUrl":"/jmap/",
#    "downloadUrl":"/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
#    "uploadUrl":"/jmap/upload/{accountId}/",
#    "eventSourceUrl":"/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
#    "state":"0",
#    "capabilities":{"urn:ietf:params:jmap:core":{"maxSizeUpload":1073741824,
#      "maxConcurrentUpload":5,"maxSizeRequest":10485760,"maxConcurrentRequests":5,
#      "maxCallsInRequest":50,"maxObjectsInGet":4096,"maxObjectsInSet":4096,
#      "collationAlgorithms":[]},
#      "urn:ietf:params:jmap:mail":{},"urn:ietf:params:jmap:submission":{},
#      "urn:ietf:params:jmap:vacationresponse":{},"urn:ietf:params:jmap:mdn":{},
#      "https://cyrusimap.org/ns/jmap/sieve":{}},
#    "accounts":{"alice":{"name":"alice","isPrimary":true,"isPersonal":true,"isReadOnly":false,
#      "accountCapabilities":{"urn:ietf:params:jmap:core":{},"urn:ietf:params:jmap:mail":{
#        "maxMailboxesPerEmail":20,"maxKeywordsPerEmail":100,
#        "maxSizeAttachmentsPerEmail":10485760,"emailsListSortOptions":["receivedAt","sentAt",
#        "from","id","emailstate","size","subject","to","hasKeyword","someInThreadHaveKeyword"],
#        "mayCreateTopLevelMailbox":true}, "urn:ietf:params:jmap:mdn":{},
#        "https://cyrusimap.org/ns/jmap/sieve":{...}, "urn:ietf:params:jmap:vacationresponse":{}}}},
#    "primaryAccounts":{"urn:ietf:params:jmap:mail":"alice","urn:ietf:params:jmap:submission":
#      "alice", ...the same for contacts, calendars, backup, vacationresponse, sieve}}
#   The accountId is the login name as is ("alice", "carol@example.org"); URLs are relative.
# - HTTP Basic works over plain HTTP because of `allowplaintext: yes` (with `no`, every plain
#   request gets 301 to https://). A wrong password, an unknown user or no Authorization at all:
#   401, `WWW-Authenticate: Basic realm="localhost"`, Content-Type text/html, Content-Length
#   set, no delay. Every HTTP/1.1 response carries `Connection: Upgrade`, `Upgrade: h2c` and
#   `Alt-Svc: h2c=":PORT"` (an offer only; it is not a close). Keep-alive: one HTTP/1.1
#   connection served many requests, pipelined ones too; HTTP/1.0 gets `Connection: close`.
#   Documented, not seen here: a request slower than httpkeepalive (20 s) gets interim
#   `102 Processing` responses; an idle connection is closed after httptimeout (5 min).
# - Mailbox/query {"filter":{"role":"inbox"}} gives the one INBOX (JMAP name "Inbox"). No trash
#   mailbox exists by default. `CREATE Trash (USE (\Trash))` over IMAP (create_trash()) or
#   Mailbox/set create {"name":"Trash","role":"trash","parentId":null} both give role "trash".
# - Email/query sorted [{"property":"receivedAt","isAscending":true}] plus Email/get with
#   "#ids" {"resultOf","name":"Email/query","path":"/ids"} and properties id, blobId, size work
#   in one request. receivedAt has whole seconds, and Cyrus breaks ties by arrival DESCENDING,
#   then GUID descending: messages APPENDed in the same second do NOT come in UID order.
# - Email id = "M" + the first 24 hex digits of the SHA-1 of the message bytes (25 characters,
#   [0-9a-f] after the M); blobId = "G" + all 40 (the IMAP GUID). Byte-identical messages are
#   ONE Email (two APPENDs of the same bytes: IMAP/POP3 count 2, Email/query total 1). IMAP
#   FETCH EMAILID gives the same id. Mailbox ids: 24 characters [0-9a-z].
# - Download (downloadUrl, accept=message/rfc822): exactly the bytes of IMAP BODY.PEEK[] and
#   exactly `size` octets (= RFC822.SIZE) for messages without a final CRLF, with 8-bit bytes, a
#   bare CR, a 10,000-character line, lines with a leading dot, 2 MB and 20 MB. Status 200,
#   Content-Length (never chunked), Content-Type message/rfc822, Content-Disposition
#   attachment; filename="NAME", Cache-Control private, max-age=604800, immutable.
#   httpallowcompress: no here, so nothing is gzip/br encoded.
# - Email/set {"destroy":[id]} expunges every copy at once (both byte-identical copies, and a
#   copy in another mailbox); IMAP sees them gone. An unknown id (even "bogus") is reported as
#   "destroyed" too, never "notDestroyed".
#
# pop3d
# - UIDL "<uidvalidity>.<uid>" (e.g. "1796474040.7"); CAPA: EXPIRE NEVER, LOGIN-DELAY 0, TOP,
#   UIDL, PIPELINING, RESP-CODES, AUTH-RESP-CODE, IMPLEMENTATION Cyrus POP3 3.6.1-...
#   LIST gives RFC822.SIZE; a message without a final CRLF: LIST N, RETR N+2 octets.

import argparse
import atexit
import base64
import http.client
import imaplib
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

from dovecot_sandbox import (ALICE, BOB, CAROL, DAVE, HOST, USERS, die_with_parent, free_port,
                             sample_messages, stop_process_group, tricky_messages)
from portwait import wait_for_port

# 2026-01-01T00:00:00Z: seeded messages are dated from here, a minute apart (see seed()).
SEED_EPOCH = 1767225600

__all__ = ["Sandbox", "ALICE", "BOB", "CAROL", "DAVE", "USERS", "free_port", "cyrus_root",
           "cyrus_messages"]

CYRUS_USER = "cyrus"
DEFAULT_ROOT = "/opt/popgate-peers/cyrus"
START_TIMEOUT_S = 60  # ends as soon as every port answers; a loaded machine can take seconds
STOP_TIMEOUT_S = 10
SERVERNAME = "localhost"  # also the SASL realm of the users without a domain
JMAP_USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]


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


def cyrus_root():
    return os.environ.get("POPGATE_CYRUS_ROOT", DEFAULT_ROOT)


IMAPD_CONF = """\
# Generated by scripts/cyrus_sandbox.py: a self-contained Cyrus for tests.
configdirectory: {dir}/conf
defaultpartition: default
partition-default: {dir}/spool
sievedir: {dir}/sieve
# Default socket paths are {{configdirectory}}/socket/...; named here so none is in /run.
lmtpsocket: {dir}/conf/socket/lmtp
idlesocket: {dir}/conf/socket/idle
notifysocket: {dir}/conf/socket/notify
ptloader_sock: {dir}/conf/socket/ptsock
proc_path: {dir}/conf/proc
mboxname_lockpath: {dir}/conf/lock
cyrus_user: {cyrus_user}
servername: {servername}
syslog_prefix: popgate-cyrus
# Plain-text LOGIN/USER/PASS and HTTP Basic without TLS (loopback test bench).
allowplaintext: yes
# Real password checks against DIR/sasldb2 (never alwaystrue).
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {dir}/sasldb2
sasl_mech_list: PLAIN LOGIN
# carol@example.org: the domain part of the login is the domain (and the SASL realm).
virtdomains: userid
# INBOX made at the first login.
autocreate_quota: 0
# Tests send wrong passwords on purpose: answer at once (default 3 s).
failedloginpause: 0
# JMAP needs both.
httpmodules: jmap
conversations: yes
# What Cyrus's JMAP guide asks for beside conversations (cyrusimap.org/imap/developer/jmap.html).
# The 3.6 default, skiplist, ignores a reader's shared lock: every JMAP request and download of
# a user holds that user's conversations.db exclusively until its answer is written, so two
# downloads of one user never run at once. twoskip takes a shared lock for readers.
conversations_db: twoskip
# Downloads byte-exact, never gzip/br encoded.
httpallowcompress: no
# Every JMAP request asks for the EmailSubmission capabilities, and Cyrus fetches them from its
# SMTP backend each time it has none cached: with the default (sendmail) that is a fork of a
# missing /usr/sbin/sendmail, ~23 ms of CPU per API request. A refused loopback connection
# fails in microseconds; popgate never submits mail.
smtp_backend: host
smtp_host: 127.0.0.1:1
# No Unix group lookups (NSS) for ACL identifiers at each request: sandbox users have none.
unix_group_enable: no
"""

CYRUS_CONF = """\
# Generated by scripts/cyrus_sandbox.py. master passes no -C to its children: each cmd names it.
START {{
  recover cmd="{bin}/ctl_cyrusdb -C {conf} -r"
}}
SERVICES {{
  imap cmd="{bin}/imapd -C {conf}" listen="{host}:{imap_port}" prefork=1
  pop3 cmd="{bin}/pop3d -C {conf}" listen="{host}:{pop3_port}" prefork=1
  {http_service} cmd="{bin}/httpd {httpd_flags}-C {conf}" listen="{host}:{http_port}" prefork=1
}}
EVENTS {{
  checkpoint cmd="{bin}/ctl_cyrusdb -C {conf} -c" period=30
}}
"""

# master runs under this shell, which stays root: die_with_parent's PR_SET_PDEATHSIG does not
# survive master's switch to the cyrus user, the shell's does, and it passes SIGTERM on.
# Before that, in its own mount namespace (unshare -m), it lays a small /dev whose `log` is a
# link to $1, the socket our syslog listener reads: Cyrus logs only to syslog (/dev/log), and
# the machine may have no syslog daemon. Without unshare or mount rights, no log is captured.
WRAPPER = r"""
sock=$1; dev=$2; shift 2
if [ -n "$sock" ] && [ -n "$dev" ]; then
  if mount --make-rprivate / 2>/dev/null && mkdir -p "$dev" &&
     mount -t tmpfs -o mode=755,size=64k popgate-cyrus-dev "$dev"; then
    for n in null zero full random urandom tty; do
      touch "$dev/$n" && mount --bind "/dev/$n" "$dev/$n"
    done
    ln -s /proc/self/fd "$dev/fd"; mkdir -m 1777 "$dev/shm"
    ln -s "$sock" "$dev/log"
    mount --move "$dev" /dev || echo "cyrus_sandbox: no /dev/log capture" >&2
  else
    echo "cyrus_sandbox: no mount namespace, no /dev/log capture" >&2
  fi
fi
"$@" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null' TERM INT HUP
rc=0
while kill -0 $pid 2>/dev/null; do wait $pid; rc=$?; done
exit $rc
"""


def cyrus_ids():
    """uid/gid of the cyrus user (created on first use): master runs as it, never as root."""
    try:
        pw = pwd.getpwnam(CYRUS_USER)
    except KeyError:
        subprocess.run(["useradd", "-r", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin",
                        CYRUS_USER], check=True)
        pw = pwd.getpwnam(CYRUS_USER)
    return pw.pw_uid, pw.pw_gid


def sasl_name(user):
    """(name, realm) as saslpasswd2 stores them: virtdomains splits user@domain."""
    name, _, domain = user.partition("@")
    return name, domain or SERVERNAME


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


class Sandbox:
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

    # --- mail helpers -------------------------------------------------------------------

    def imap(self, user, password=None):
        """A logged-in imaplib connection (AUTHENTICATE PLAIN takes the 8-bit and quote-laden
        passwords as they are)."""
        password = USERS[user] if password is None else password
        conn = imaplib.IMAP4(HOST, self.imap_port, timeout=60)
        token = b"\0" + user.encode() + b"\0" + password.encode()
        try:
            conn.authenticate("PLAIN", lambda _challenge: token)
        except BaseException:
            conn.shutdown()
            raise
        return conn

    def seed(self, user, password, messages, mailbox="INBOX"):
        """APPEND each raw message (bytes, sent unmodified). Cyrus refuses messages with a bare
        LF ("NO Message contains bare newlines"): that raises here. Each message gets its own
        INTERNALDATE, a minute after the one before: JMAP sorts by receivedAt (whole seconds),
        and Cyrus breaks ties by arrival *descending*, so messages appended within one second
        would come back in another order than IMAP's and POP3's UIDs."""
        conn = self.imap(user, password)
        try:
            for raw in messages:
                self._appended = getattr(self, "_appended", 0) + 1
                stamp = time.gmtime(SEED_EPOCH + 60 * self._appended)
                date = time.strftime('"%d-%b-%Y %H:%M:%S +0000"', stamp)
                # imaplib.append() rewrites line ends: send the literal ourselves.
                conn.literal = raw
                typ, data = conn._simple_command("APPEND", mailbox, date)
                if typ != "OK":
                    raise RuntimeError(f"APPEND failed: {typ} {data}")
        finally:
            conn.logout()

    def clear(self, user, mailbox="INBOX"):
        """Empty a mailbox of the user's (tests that delete start from a known mailbox)."""
        conn = self.imap(user)
        try:
            typ, data = conn.select(mailbox)
            if typ != "OK":
                raise RuntimeError(f"SELECT {mailbox} failed: {data}")
            if int(data[0]) > 0:
                conn.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                conn.expunge()
        finally:
            conn.logout()

    def create_trash(self, user, name="Trash"):
        """A mailbox with the \\Trash special use (JMAP role "trash"); none exists by default.
        Idempotent."""
        conn = self.imap(user)
        try:
            typ, data = conn.list('""', name)
            if typ == "OK" and data and data[0]:
                return
            typ, data = conn._simple_command("CREATE", name, "(USE (\\Trash))")
            if typ != "OK":
                raise RuntimeError(f"CREATE {name} failed: {data}")
        finally:
            conn.logout()

    # --- HTTP / JMAP helpers --------------------------------------------------------------

    def http(self, method, path, body=None, user=None, password=None, headers=None, timeout=60):
        """One request on a fresh connection: (status, headers as a list of pairs, body).
        Over https when the sandbox has TLS (the certificate is not verified here)."""
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(HOST, self.http_port, timeout=timeout, context=ctx)
        else:
            conn = http.client.HTTPConnection(HOST, self.http_port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            if user is not None:
                password = USERS[user] if password is None else password
                token = base64.b64encode(f"{user}:{password}".encode()).decode()
                hdrs["Authorization"] = "Basic " + token
            if body is not None and not isinstance(body, bytes):
                body = json.dumps(body).encode()
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def jmap_session(self, user, password=None):
        status, _, body = self.http("GET", "/jmap/", user=user, password=password)
        if status != 200:
            raise RuntimeError(f"JMAP session for {user}: HTTP {status}")
        return json.loads(body)

    def jmap(self, user, method_calls, password=None, using=None):
        """POST one JMAP request (to apiUrl, /jmap/); returns the methodResponses list."""
        status, _, body = self.http("POST", "/jmap/", {"using": using or JMAP_USING,
                                                        "methodCalls": method_calls},
                                    user=user, password=password)
        if status != 200:
            raise RuntimeError(f"JMAP request for {user}: HTTP {status}: {body[:500]!r}")
        return json.loads(body)["methodResponses"]

    def download(self, user, blob_id, password=None, name="message.eml",
                 mime="message/rfc822"):
        """The blob's bytes, through the session's downloadUrl template."""
        path = f"/jmap/download/{user}/{blob_id}/{name}?accept={mime}"
        status, _, body = self.http("GET", path, user=user, password=password)
        if status != 200:
            raise RuntimeError(f"download {blob_id} for {user}: HTTP {status}")
        return body


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
