"""Mail helpers of a running Courier sandbox (scripts/courier_sandbox.py): IMAP logins, a
POP3 login that makes pop3d number new messages, seeding in UID order, clearing a mailbox.
Standard library only."""

import imaplib
import os
import socket
import time

from dovecot_sandbox import HOST
from imap_helpers import clear_mailbox


class CourierClient:
    """Mixed into Sandbox: needs users, imap_port, pop3_port and maildir(user)."""

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
        clear_mailbox(self.imap(user), mailbox)


def imap_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
