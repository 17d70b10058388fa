#!/usr/bin/python3
"""A throw-away Courier-IMAP 5.0 (IMAP and Courier's own POP3 on 127.0.0.1) for popgate's tests.

Importable (tests) and a CLI:
    python3 scripts/courier_sandbox.py --dir DIR [--imap-port P] [--pop3-port Q] [--seed-sample]
runs until SIGINT/SIGTERM, then stops Courier. Port 0 (the default) picks a free port.

courier-imap and courier-pop conflict with dovecot-imapd/dovecot-pop3d as Debian packages, so
scripts/install-deps.sh unpacks their .debs (`dpkg -x`) into /opt/popgate-peers/courier (or
$POPGATE_COURIER_ROOT); the authentication library (courier-authlib, -userdb, -authdaemon) does
not conflict and is installed normally. Everything lives under DIR: the authdaemonrc, the userdb
and its .dat files, authdaemond's socket, the Maildirs, the logs. Several sandboxes run at once
(ctest -j): see "Per-sandbox authdaemond" below. Standard library only. Users: those of
dovecot_sandbox.py, all four accepted (alice; bob's password with spaces, quotes, backslash;
carol@example.org as a userdb name; dave's 8-bit password), each with a real password.
"""

# Facts about Courier-IMAP 5.0.13 / courier-pop 1.0.16 and courier-authlib 0.71.4 (Debian 12) as
# this sandbox runs them, each checked here (tests/integration/test_courier_sandbox.py pins the
# main ones):
#
# Per-sandbox authdaemond
# - authlib's paths are compiled in, with no environment variable or option to move them:
#   authdaemond reads /etc/courier/authdaemonrc, its userdb module reads
#   /etc/courier/userdb.dat and userdbshadow.dat, and the socket between the login programs
#   (imaplogin, courierpop3login, via libcourierauth) and authdaemond is
#   /run/courier/authdaemon/socket on both ends. So authdaemond and both couriertcpd run in
#   their own mount namespace (unshare --mount) where DIR/etc is bind-mounted on /etc/courier
#   and DIR/run on /run/courier: each sandbox has its own daemon, users and socket, and nothing
#   outside DIR is written (the mount points must exist: /etc/courier comes with
#   courier-authdaemon, /run/courier is made if missing, as its tmpfiles.d entry would).
# - Passwords: userdb `systempw={SHA256}<base64 of SHA-256>` (authlib also takes {MD5}, {SHA},
#   {SHA512}, {SSHA}, {CRYPT}); the userdb text file must be mode 0600 for makeuserdb. A userdb
#   name may contain '@' (carol@example.org); passwords are hashed, so any bytes work.
# - couriertcpd puts itself in its own process group and, on SIGTERM, takes its children down
#   (a session gets "* BYE"); the default -maxperip is 4 (raised here). Each server writes its
#   log lines to stderr (no courierlogger here): DIR/imapd.log, DIR/pop3d.log,
#   DIR/authdaemond.log. A wrong password is answered after 5 s (IMAP "NO Login failed.", POP3
#   "-ERR Login failed."); no setting changes that.
#
# IMAP (couriertcpd + imaplogin + imapd, started with a clean environment)
# - Capabilities come only from IMAP_CAPABILITY (Debian's default list here, with UIDPLUS); the
#   greeting carries them plus ACL, ACL2=UNION, ENABLE and UTF8=ACCEPT. Without TLS no AUTH=PLAIN
#   is advertised: imap() logs in with LOGIN and the password as a literal (quotes, backslash,
#   8-bit bytes pass as they are; quoted strings work too).
# - imaplogin execs imapd after LOGIN: what a client pipelined behind LOGIN is lost.
# - UIDVALIDITY: the first number of courierimapuiddb ("1 <uidvalidity> <nextuid>", then
#   "<uid> <file name without flags>" lines). imapd makes it when the Maildir has none, with
#   the time minus 10^9 as UIDVALIDITY (e.g. 796478934 at 1796478934), and keeps one it finds.
# - A message of header lines only (no blank line): BODY[HEADER] is one octet short, ending in
#   a lone CR (42 octets for a 43-octet message), and BODY[TEXT] (and BODY[TEXT]<0.1>) is that
#   one octet, a CR too, not an LF: HEADER + TEXT is "...\r\r" where BODY[] is "...\r\n".
# - APPEND (the stored file has LF line ends; IMAP and POP3 send CRLF): a bare LF becomes a
#   line end, a bare CR is dropped, a missing final line end is added. So a message is served as
#   courier_form(raw) below, RFC822.SIZE and POP3 LIST are its length.
# - File names: <seconds>.M<microseconds>P<pid>V<dev>I<inode>_<n>.<host>,S=<size>, the
#   microseconds NOT zero-padded.
#
# POP3 (couriertcpd + courierpop3login + courierpop3d)
# - UIDL "UID<n>-<v>", decimal. n and v are pop3d's OWN numbering, kept in the Maildir's
#   courierpop3dsizelist ("/3 <nextuid> <uidvalidity>", then "<file> <size> <n>:<v>:<utf8>"
#   lines), not IMAP's UID and UIDVALIDITY: at each login pop3d numbers the messages it has not
#   seen before, in file-name order, from its own counter, and v is the time of the login that
#   created the list. A Maildir first opened by IMAP and then by POP3 a few seconds later gets
#   e.g. IMAP UIDVALIDITY 796478934 and UIDL "UID1-1796478940". So new_maildir() (used for every
#   user at start) writes both files empty with ONE uidvalidity and both counters at 1, and
#   seed() ends with a POP3 login so pop3d numbers the new messages at once, as IMAP did at
#   APPEND: then, and only then, "UID<imap uid>-<imap uidvalidity>" equals pop3d's UIDL.
#   new_maildir(user, align_uids=False) gives a Maildir as Courier makes it.
# - Message order: by file name (the seconds, then the rest compared as text), not by IMAP
#   UID. Since the microseconds are not zero-padded, two messages APPENDed in the same second
#   can sort against their UIDs ("M99999" after "M100000"); seed() APPENDs only in the part of
#   a second where every microsecond count has six digits, so file-name order = UID order (and
#   checks it).
# - CAPA: TOP, USER, LOGIN-DELAY 10, PIPELINING, UIDL, UTF8 USER, IMPLEMENTATION Courier Mail
#   Server. Status lines: "+OK N octets follow." (RETR), "+OK headers follow." (TOP), every bad
#   message number "-ERR Invalid message number.".
# - LIST and RETR count CRLF line ends (the file's size plus one per line); RETR sets \Seen
#   (renames the file to ...:2,S); TOP does not; `TOP n -1` is +OK with the whole message (the
#   line count is parsed as unsigned). A message with 8-bit bytes in its header is sent wrapped
#   in a multipart "Cannot display Unicode content" notice (RFC 6856: the client did not say
#   UTF8), so its RETR has other bytes and another size than LIST and IMAP say.

import argparse
import atexit
import base64
import hashlib
import imaplib
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

from dovecot_sandbox import (ALICE, BOB, CAROL, DAVE, HOST, USERS, VMAIL, die_with_parent,
                             free_port, sample_messages, stop_process_group, tricky_messages,
                             vmail_ids)
from portwait import wait_for_port

__all__ = ["Sandbox", "ALICE", "BOB", "CAROL", "DAVE", "USERS", "free_port", "courier_root",
           "courier_form", "courier_messages"]

DEFAULT_ROOT = "/opt/popgate-peers/courier"
START_TIMEOUT_S = 60  # ends as soon as every port answers
STOP_TIMEOUT_S = 10
SYSTEM_ETC = "/etc/courier"      # compiled into authlib: bind-mounted from DIR/etc
SYSTEM_RUN = "/run/courier"      # compiled into authlib: bind-mounted from DIR/run
AUTHDAEMOND = "/usr/lib/courier/courier-authlib/authdaemond"  # courier-authdaemon (installed)
MAKEUSERDB = "/usr/sbin/makeuserdb"                           # courier-authlib-userdb
# Debian's /etc/courier/imapd default: UIDPLUS is what popgate needs (UID EXPUNGE).
IMAP_CAPABILITY = ("IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT "
                   "THREAD=REFERENCES SORT QUOTA IDLE")


def courier_root():
    return os.environ.get("POPGATE_COURIER_ROOT", DEFAULT_ROOT)


def courier_form(raw):
    """What Courier stores for an APPENDed message, as IMAP and POP3 serve it (CRLF line ends):
    bare CR dropped, bare LF a line end, a final line end added when missing."""
    lines = re.split(rb"\r?\n", raw)
    if lines[-1] == b"":
        lines.pop()
    return b"".join(line.replace(b"\r", b"") + b"\r\n" for line in lines)


def courier_messages():
    """The gateway tests' tricky corpus as Courier keeps it: every message is accepted; the
    bare-LF, bare-CR and no-final-CRLF ones are rewritten on APPEND (see courier_form())."""
    return tricky_messages()


AUTHDAEMONRC = """\
# Generated by scripts/courier_sandbox.py; seen by authdaemond as /etc/courier/authdaemonrc.
authmodulelist="authuserdb"
authmodulelistorig="authuserdb"
daemons=2
authdaemonvar=/run/courier/authdaemon
DEBUG_LOGIN=0
DEFAULTOPTIONS=""
LOGGEROPTS=""
"""

# Runs under `unshare --mount` as root: gives authlib DIR's files at its compiled-in paths,
# starts the three daemons, passes SIGTERM on, and exits (taking the others down) as soon as one
# of them exits, e.g. a couriertcpd that could not bind its port.
WRAPPER = r"""
etc=$1; run=$2; pids_file=$3
mount --make-rprivate / && mount --bind "$etc" {system_etc} && mount --bind "$run" {system_run} ||
  {{ echo "courier_sandbox: cannot bind-mount $etc and $run in a mount namespace" >&2; exit 97; }}
{authdaemond} >>{dir}/authdaemond.log 2>&1 &
a=$!
{imap} >>{dir}/imapd.log 2>&1 &
i=$!
{pop3} >>{dir}/pop3d.log 2>&1 &
p=$!
echo "$$ $a $i $p" > "$pids_file"
trap 'kill -TERM $a $i $p 2>/dev/null' TERM INT HUP
wait -n
rc=$?
kill -TERM $a $i $p 2>/dev/null
wait
exit $rc
"""


def courier_password(password):
    """userdb's systempw for a password: {SHA256} and the base64 of its SHA-256."""
    digest = hashlib.sha256(password.encode("utf-8")).digest()
    return "{SHA256}" + base64.b64encode(digest).decode()


class Sandbox:
    """authdaemond and two couriertcpd (IMAP, POP3) in one mount namespace. start() returns
    self; stop() is idempotent."""

    def __init__(self, directory, imap_port=0, pop3_port=0, users=None):
        """users: login name -> password (default: USERS of dovecot_sandbox.py)."""
        self.dir = os.path.abspath(directory)
        self.users = dict(USERS if users is None else users)
        self.want_imap, self.want_pop3 = imap_port, pop3_port
        self.imap_port = self.pop3_port = None
        self.proc = None
        self.root = courier_root()
        self.uid, self.gid = vmail_ids()

    # --- paths --------------------------------------------------------------------------

    @property
    def etc_dir(self):
        return os.path.join(self.dir, "etc")

    @property
    def run_dir(self):
        return os.path.join(self.dir, "run")

    @property
    def pids_path(self):
        return os.path.join(self.dir, "pids")

    def home(self, user):
        return os.path.join(self.dir, "home", user)

    def maildir(self, user):
        return os.path.join(self.home(user), "Maildir")

    @property
    def log_paths(self):
        return [os.path.join(self.dir, name) for name in
                ("authdaemond.log", "imapd.log", "pop3d.log", "wrapper.err")]

    def log_text(self):
        text = ""
        for path in self.log_paths:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    text += f.read()
            except FileNotFoundError:
                pass
        return text

    # --- setup --------------------------------------------------------------------------

    def _bin(self, *parts):
        return os.path.join(self.root, *parts)

    def _check_installed(self):
        missing = [path for path in (self._bin("usr/sbin/couriertcpd"), self._bin("usr/bin/imapd"),
                                     AUTHDAEMOND, MAKEUSERDB) if not os.access(path, os.X_OK)]
        if missing or not shutil.which("unshare"):
            raise RuntimeError(f"Courier is not installed ({', '.join(missing) or 'unshare'} "
                               f"missing): run scripts/install-deps.sh or set "
                               f"POPGATE_COURIER_ROOT")
        if not os.path.isdir(SYSTEM_ETC):
            raise RuntimeError(f"no {SYSTEM_ETC} to bind-mount on: install courier-authdaemon")

    def _write_files(self):
        self._check_installed()
        # The mail processes (user vmail) must traverse DIR (mkdtemp makes it 0700).
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        parent = os.path.dirname(self.dir)
        while parent != "/":
            if not os.stat(parent).st_mode & 0o001:
                raise RuntimeError(f"{parent} is not world-searchable: Courier's mail processes "
                                   f"(user {VMAIL}) could not reach {self.dir}")
            parent = os.path.dirname(parent)
        os.makedirs(os.path.join(self.run_dir, "authdaemon"), exist_ok=True)
        os.makedirs(self.etc_dir, exist_ok=True)
        os.makedirs(SYSTEM_RUN, exist_ok=True)  # a mount point only
        with open(os.path.join(self.etc_dir, "authdaemonrc"), "w") as f:
            f.write(AUTHDAEMONRC)
        home = os.path.join(self.dir, "home")
        os.makedirs(home, exist_ok=True)
        os.chown(home, self.uid, self.gid)
        lines = []
        for user, password in self.users.items():
            if not os.path.isdir(self.maildir(user)):
                self.new_maildir(user)
            fields = {"uid": self.uid, "gid": self.gid, "home": self.home(user),
                      "mail": self.maildir(user), "systempw": courier_password(password)}
            lines.append(user + "\t" + "|".join(f"{k}={v}" for k, v in fields.items()) + "\n")
        userdb = os.path.join(self.etc_dir, "userdb")
        fd = os.open(userdb, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(lines)
        os.chmod(userdb, 0o600)  # makeuserdb refuses a userdb with group or world rights
        subprocess.run([MAKEUSERDB, "-f", userdb], check=True, capture_output=True)

    def new_maildir(self, user, align_uids=True):
        """(Re)creates the user's empty Maildir. align_uids: also write courierimapuiddb and
        courierpop3dsizelist with one uidvalidity and both counters at 1, so that pop3d's own
        UIDLs are "UID<IMAP UID>-<IMAP UIDVALIDITY>" (see the facts above); without it, imapd
        and pop3d each make theirs on first use, as in a real Maildir."""
        home, maildir = self.home(user), self.maildir(user)
        if os.path.isdir(maildir):
            shutil.rmtree(maildir)
        for path in (home, maildir) + tuple(os.path.join(maildir, sub)
                                            for sub in ("cur", "new", "tmp")):
            os.makedirs(path, mode=0o700, exist_ok=True)
            os.chown(path, self.uid, self.gid)
        if align_uids:
            # A fresh uidvalidity per Maildir, like Courier's own (seconds since the epoch).
            uidvalidity = int(time.time())
            for name, text in (("courierimapuiddb", f"1 {uidvalidity} 1\n"),
                               ("courierpop3dsizelist", f"/3 1 {uidvalidity}\n")):
                path = os.path.join(maildir, name)
                with open(path, "w") as f:
                    f.write(text)
                os.chown(path, self.uid, self.gid)

    def _commands(self):
        """The argv of authdaemond and of the two couriertcpd, as shell words."""
        tcpd = [self._bin("usr/sbin/couriertcpd"), f"-address={HOST}", "-maxprocs=200",
                "-maxperip=200", "-nodnslookup", "-noidentlookup"]
        path = "PATH=/usr/bin:/bin"
        imap = ["env", "-i", path, f"IMAP_CAPABILITY={IMAP_CAPABILITY}", "IMAP_KEYWORDS=1",
                "IMAP_ACL=1", "IMAP_IDLE_TIMEOUT=60", "IMAP_USELOCKS=1",
                "IMAP_TRASHFOLDERNAME=Trash", "IMAP_MOVE_EXPUNGE_TO_TRASH=0",
                "IMAP_DISABLETHREADSORT=0", "IMAP_MAILBOX_SANITY_CHECK=1",
                *tcpd, str(self.imap_port), self._bin("usr/lib/courier/courier/imaplogin"),
                self._bin("usr/bin/imapd"), "Maildir"]
        pop3 = ["env", "-i", path, *tcpd, str(self.pop3_port),
                self._bin("usr/lib/courier/courier/courierpop3login"),
                self._bin("usr/lib/courier/courier/courierpop3d"), "Maildir"]
        return {"authdaemond": shlex.join(["env", "-i", path, AUTHDAEMOND]),
                "imap": shlex.join(imap), "pop3": shlex.join(pop3)}

    def _stop_stale(self):
        """Daemons left by an earlier run on this DIR (e.g. a killed demo) would hold the ports.
        couriertcpd runs in its own process group: it is stopped by its pid."""
        try:
            with open(self.pids_path) as f:
                pids = [int(p) for p in f.read().split()]
        except (OSError, ValueError):
            return
        for pid in pids:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if (b"couriertcpd" in cmdline or b"authdaemond" in cmdline
                    or self.pids_path.encode() in cmdline):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
            time.sleep(0.05)

    def start(self):
        self._stop_stale()
        # A port picked by free_port() can be taken before couriertcpd binds it: retry then.
        for _ in range(5):
            self.imap_port = self.want_imap or free_port()
            self.pop3_port = self.want_pop3 or free_port()
            self._write_files()
            for path in self.log_paths:
                open(path, "w").close()
            script = WRAPPER.format(system_etc=SYSTEM_ETC, system_run=SYSTEM_RUN,
                                    dir=shlex.quote(self.dir), **self._commands())
            # Own session (a terminal's Ctrl-C goes to us); couriertcpd makes its own groups,
            # the wrapper stops them on SIGTERM, which die_with_parent sends if we are killed.
            with open(os.path.join(self.dir, "wrapper.err"), "ab") as err:
                self.proc = subprocess.Popen(
                    ["unshare", "--mount", "bash", "-c", script, "courier-sandbox",
                     self.etc_dir, self.run_dir, self.pids_path],
                    stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True,
                    preexec_fn=die_with_parent)
            atexit.register(self.stop)
            if self._wait_ready(time.monotonic() + START_TIMEOUT_S):
                return self
            self.stop()
            if "Address already in use" not in self.log_text() or \
                    (self.want_imap and self.want_pop3):
                break
        raise RuntimeError(f"Courier did not start; logs in {self.dir}:\n{self.log_text()}")

    def _wait_ready(self, deadline):
        """authdaemond's socket exists, IMAP and POP3 greet. A wrapper that exited (a daemon
        died, e.g. could not bind) is not waited for."""
        socket_path = os.path.join(self.run_dir, "authdaemon", "socket")
        for port, greeting in ((self.imap_port, b"* OK"), (self.pop3_port, b"+OK")):
            if not wait_for_port(port, deadline - time.monotonic(), host=HOST,
                                 greeting=greeting, proc=self.proc):
                return False
        while not os.path.exists(socket_path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        stop_process_group(proc)  # the wrapper passes SIGTERM on and waits for the three
        self._stop_stale()        # belt and braces: a couriertcpd that outlived it

    # --- mail helpers -------------------------------------------------------------------

    def imap(self, user, password=None):
        """A logged-in imaplib connection: LOGIN with the password as a literal (no AUTH=PLAIN
        without TLS; a literal carries quotes, backslashes and 8-bit bytes as they are)."""
        password = self.users[user] if password is None else password
        conn = imaplib.IMAP4(HOST, self.imap_port, timeout=60)
        try:
            conn.literal = password.encode("utf-8")
            typ, data = conn._simple_command("LOGIN", imap_quote(user))
            if typ != "OK":
                raise imaplib.IMAP4.error(f"LOGIN {user}: {typ} {data}")
            conn.state = "AUTH"
        except BaseException:
            conn.shutdown()
            raise
        return conn

    def pop3_touch(self, user, password=None):
        """A POP3 login and QUIT: pop3d numbers the messages it has not seen yet (file-name
        order, from its own counter) and records them in courierpop3dsizelist."""
        password = self.users[user] if password is None else password
        with socket.create_connection((HOST, self.pop3_port), timeout=60) as sock:
            f = sock.makefile("rwb")
            replies = [f.readline()]
            for line in (b"USER " + user.encode(), b"PASS " + password.encode(), b"QUIT"):
                f.write(line + b"\r\n")
                f.flush()
                replies.append(f.readline())
        if not all(r.startswith(b"+OK") for r in replies):
            raise RuntimeError(f"POP3 login as {user}: {replies!r}")

    def seed(self, user, password, messages, mailbox="INBOX", pop3_sync=True):
        """APPEND each raw message (bytes, sent unmodified; Courier stores courier_form(raw)).
        Each APPEND starts 0.1 s to 0.7 s into a second, where the clock's microseconds have six
        digits, so the files' names sort in APPEND order, the order of their UIDs (checked
        afterwards for INBOX: pop3d lists by name). pop3_sync: then log in over POP3 once, so
        pop3d numbers the new messages now, in the same order and from the same counter as IMAP
        (see new_maildir())."""
        conn = self.imap(user, password)
        try:
            for raw in messages:
                fraction = time.time() % 1
                if not 0.1 <= fraction < 0.7:
                    time.sleep((1.1 - fraction) % 1)
                # imaplib.append() rewrites line ends: send the literal ourselves.
                conn.literal = raw
                typ, data = conn._simple_command("APPEND", mailbox)
                if typ != "OK":
                    raise RuntimeError(f"APPEND failed: {typ} {data}")
        finally:
            conn.logout()
        if mailbox == "INBOX":
            self._check_name_order(user)
            if pop3_sync:
                self.pop3_touch(user, password)

    def uid_file_names(self, user):
        """{IMAP UID: Maildir file name without flags} of the user's INBOX (courierimapuiddb)."""
        with open(os.path.join(self.maildir(user), "courierimapuiddb")) as f:
            lines = f.read().splitlines()[1:]
        return {int(uid): name for uid, name in (line.split(" ", 1) for line in lines)}

    def _check_name_order(self, user):
        """pop3d sorts by the seconds in the name, then by the name as text."""
        names = [name for _, name in sorted(self.uid_file_names(user).items())]
        by_name = sorted(names, key=lambda name: (int(name.split(".", 1)[0]), name))
        if by_name != names:
            raise RuntimeError(f"{user}'s Maildir file names sort against their UIDs (a slow "
                               f"APPEND?): Courier's pop3d would list them in another order: "
                               f"{names}")

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


def imap_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, help="sandbox directory (created, reused)")
    parser.add_argument("--imap-port", type=int, default=0)
    parser.add_argument("--pop3-port", type=int, default=0)
    parser.add_argument("--seed-sample", action="store_true", help="put sample mail in alice's INBOX")
    args = parser.parse_args()

    # SIGTERM must unwind through the finally below like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sandbox = Sandbox(args.dir, args.imap_port, args.pop3_port)
    ready = os.path.join(os.path.abspath(args.dir), "ready")
    try:
        if os.path.exists(ready):
            os.unlink(ready)
        sandbox.start()
        if args.seed_sample:
            sandbox.clear(ALICE[0])
            sandbox.seed(*ALICE, sample_messages())
        print(f"imap_port={sandbox.imap_port} pop3_port={sandbox.pop3_port}", flush=True)
        # Scripts wait for this file rather than parsing our stdout.
        with open(ready, "w") as f:
            f.write(f"{sandbox.imap_port} {sandbox.pop3_port}\n")
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
