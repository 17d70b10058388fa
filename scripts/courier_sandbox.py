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
(ctest -j): see "Per-sandbox authdaemond" in courier_config.py. Standard library only. Users:
those of dovecot_sandbox.py, all four accepted (alice; bob's password with spaces, quotes,
backslash; carol@example.org as a userdb name; dave's 8-bit password), each with a real password.
"""

# How it runs Courier, and the facts about Courier that rests on: scripts/courier_config.py.

import argparse
import atexit
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

from courier_client import CourierClient
from courier_config import (AUTHDAEMOND, AUTHDAEMONRC, IMAP_CAPABILITY, MAKEUSERDB, SYSTEM_ETC,
                            SYSTEM_RUN, WRAPPER, courier_form, courier_password, courier_root)
from dovecot_sandbox import (ALICE, BOB, CAROL, DAVE, HOST, USERS, VMAIL, die_with_parent,
                             free_port, sample_messages, stop_process_group, tricky_messages,
                             vmail_ids)
from portwait import wait_for_port

__all__ = ["Sandbox", "ALICE", "BOB", "CAROL", "DAVE", "USERS", "free_port", "courier_root",
           "courier_form", "courier_messages"]

START_TIMEOUT_S = 60  # ends as soon as every port answers
STOP_TIMEOUT_S = 10


def courier_messages():
    """The gateway tests' tricky corpus as Courier keeps it: every message is accepted; the
    bare-LF, bare-CR and no-final-CRLF ones are rewritten on APPEND (see courier_form())."""
    return tricky_messages()


class Sandbox(CourierClient):
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
        UIDLs are "UID<IMAP UID>-<IMAP UIDVALIDITY>" (see the facts in courier_config.py);
        without it, imapd and pop3d each make theirs on first use, as in a real Maildir."""
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
