"""The Cyrus side of the benchmark: a second store, Cyrus IMAP 3.6 (IMAP, POP3 and JMAP on
127.0.0.1, scripts/cyrus_sandbox.py), started only when one of its targets is selected:

  popgate-jmap        popgate with a `jmap` backend on Cyrus's JMAP
  popgate-cyrus-imap  popgate with an `imap` backend on the same Cyrus's IMAP
  cyrus-pop3d         Cyrus's own POP3 on the same store (a reference: no gateway hop)

The store holds the poll and bulk mailboxes of the Dovecot store, byte for byte as served (the
Maildir files' LF line ends turned into CRLF: Cyrus refuses bare LF on APPEND). The corpus
already differs in every message of a mailbox (its number is in Subject and Message-ID), which
Cyrus needs: it keys JMAP Emails by the message's bytes, so two identical messages in one
account would be one Email. Seeding is IMAP MULTIAPPEND with LITERAL+ (one command per user, 16
users at a time; Cyrus syncs every message to disk, so one user at a time would take minutes),
each message with its own INTERNALDATE a minute after the one before: JMAP lists by receivedAt,
so popgate-jmap numbers the messages as the IMAP and POP3 targets do. The big 100 MiB message is
not stored: the big scenario's floor is Dovecot's IMAP, so it runs on the Dovecot targets only.
"""

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time

from . import corpus, procstat, services
from .runner import TargetInfo

sys.path.insert(0, os.path.join(services.REPO, "scripts"))
import cyrus_sandbox  # noqa: E402  (path set just above)

TARGETS = ["popgate-jmap", "popgate-cyrus-imap", "cyrus-pop3d"]
SEED_CONNECTIONS = 16
POPGATE_LOGIN = re.compile(rb" login \S+ ok")

JMAP_BACKEND = """\
    type: jmap
    url: {url}
"""

class CyrusStore(cyrus_sandbox.Sandbox):
    """scripts/cyrus_sandbox.py's Cyrus as it is (its defaults set no limit on logins per user
    or host), with the bench users (their INBOXes made by the seeding logins) instead of the
    test users."""

    def __init__(self, directory, users):
        super().__init__(directory)
        self.bench_users = users

    def _write_sasldb(self):
        sasldb = os.path.join(self.dir, "sasldb2")
        if os.path.exists(sasldb):
            os.unlink(sasldb)
        for user, password in self.bench_users.items():
            name, realm = cyrus_sandbox.sasl_name(user)
            subprocess.run(["saslpasswd2", "-f", sasldb, "-p", "-c", "-u", realm, name],
                           input=password.encode(), check=True, stdout=subprocess.DEVNULL)
        os.chown(sasldb, self.uid, self.gid)
        os.chmod(sasldb, 0o640)

    def _create_inboxes(self):
        pass

    def target(self):
        return procstat.Target("cyrus", [self.proc.pid])


def _multiappend(port, user, password, messages):
    """All `messages` (CRLF) into the user's INBOX in one MULTIAPPEND; raises unless OK."""
    with socket.create_connection((services.HOST, port), timeout=300) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b'a LOGIN "%s" "%s"\r\n' % (user.encode(), password.encode()))
        line = reader.readline()
        while not line.startswith(b"a "):
            line = reader.readline()
        if not line.startswith(b"a OK"):
            raise RuntimeError(f"Cyrus LOGIN {user}: {line!r}")
        parts = [b"b APPEND INBOX"]
        for n, data in enumerate(messages, 1):
            stamp = time.gmtime(cyrus_sandbox.SEED_EPOCH + 60 * n)
            date = time.strftime("%d-%b-%Y %H:%M:%S +0000", stamp).encode()
            parts.append(b' "%s" {%d+}\r\n' % (date, len(data)) + data)
        sock.sendall(b"".join(parts) + b"\r\n")
        line = reader.readline()
        while not line.startswith(b"b "):
            line = reader.readline()
        if not line.startswith(b"b OK"):
            raise RuntimeError(f"Cyrus APPEND for {user}: {line[:300]!r}")
        sock.sendall(b"c LOGOUT\r\n")


class CyrusSide:
    """The Cyrus store, its seeding, and the targets on it."""

    def __init__(self, work, users, args, cert, key):
        self.dir = os.path.join(work, "cyrus")
        self.store = CyrusStore(os.path.join(self.dir, "store"), users)
        self.users = users
        self.selected = [t for t in args.targets if t in TARGETS]
        self.binary, self.workers, self.cert, self.key = args.popgate, args.workers, cert, key
        self.popgates = {}

    def start_and_seed(self, poll_users, bulk_users, bulk_messages):
        """Starts the store and stores the Dovecot store's poll and bulk mailboxes in it."""
        self.store.start()
        poll, bulk, _ = corpus.mailboxes(bulk_messages)
        mailboxes = {u: poll for u in corpus.users_of("poll", poll_users)}
        mailboxes.update({u: bulk for u in corpus.users_of("bulk", bulk_users)})
        return self.seed(mailboxes)

    def seed(self, mailboxes):
        """mailboxes: {user: [message (LF line ends)]}. Returns what was stored and how long
        it took."""
        started = time.monotonic()
        todo = queue.Queue()
        for user, messages in mailboxes.items():
            todo.put((user, [m.replace(b"\n", b"\r\n") for m in messages]))
        errors = []

        def work():
            while not errors:
                try:
                    user, messages = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    _multiappend(self.store.imap_port, user, self.users[user], messages)
                except Exception as e:  # reported after the others finish
                    errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(SEED_CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        count = sum(len(m) for m in mailboxes.values())
        wall = time.monotonic() - started
        return {"messages": count, "users": len(mailboxes), "append_s": round(wall, 1),
                "messages_per_s": round(count / wall)}

    def start_targets(self, service_list):
        """The selected targets on the (running) store; the popgates join service_list."""
        store, targets = self.store, {}
        if "popgate-jmap" in self.selected:
            self._popgate("popgate-jmap", JMAP_BACKEND.format(url=store.jmap_url), service_list)
            targets["popgate-jmap"] = self.popgate_target("popgate-jmap")
        if "popgate-cyrus-imap" in self.selected:
            backend = services.IMAP_BACKEND.format(host=services.HOST, port=store.imap_port)
            self._popgate("popgate-cyrus-imap", backend, service_list)
            targets["popgate-cyrus-imap"] = self.popgate_target("popgate-cyrus-imap")
        if "cyrus-pop3d" in self.selected:
            targets["cyrus-pop3d"] = TargetInfo(
                "cyrus-pop3d", "Cyrus POP3 (native)", store.pop3_port, None, store.target(),
                logs=[store.log_path],
                login_log=(store.log_path, re.compile(rb"pop3d?\[\d+\]: login: ")))
        return targets

    def _popgate(self, name, backend_yaml, service_list):
        pg = services.Popgate(os.path.join(self.dir, name), self.binary, self.store.imap_port,
                              self.cert, self.key, extra_yaml=f"workers: {self.workers}\n",
                              backend_yaml=backend_yaml, name=name)
        service_list.append(pg)
        pg.start()
        self.popgates[name] = pg

    def popgate_target(self, name):
        pg = self.popgates[name]
        log = os.path.join(pg.dir, "popgate.log")
        title = {"popgate-jmap": "popgate over JMAP (Cyrus)",
                 "popgate-cyrus-imap": "popgate over IMAP (Cyrus)"}[name]
        return TargetInfo(name, title, pg.pop3_port, pg.pop3s_port, pg.target(),
                          backend=self.store.target(), logs=[log], alive=pg.alive,
                          login_log=(log, POPGATE_LOGIN))

    def configs(self):
        """(path, name in the results directory) of the generated configurations."""
        out = [(self.store.config_path, "cyrus-imapd.conf"),
               (self.store.master_config_path, "cyrus.conf")]
        out += [(pg.config_path, f"{name}.yaml") for name, pg in self.popgates.items()]
        return out


def cyrus_version():
    """The unpacked cyrus-imapd package's version (it is not installed with dpkg)."""
    path = os.path.join(cyrus_sandbox.cyrus_root(), "usr/share/doc/cyrus-imapd/changelog.Debian.gz")
    try:
        out = subprocess.run(["zcat", path], capture_output=True, text=True).stdout
        return out.split("(", 1)[1].split(")", 1)[0]
    except (OSError, IndexError):
        return "?"
