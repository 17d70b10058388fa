"""The Courier sandbox (scripts/courier_sandbox.py) itself: real logins on IMAP and POP3, what
Courier stores for the tricky corpus, and its pop3d's UIDLs and order. No popgate here; this pins
the facts that test_stores.py relies on (see the comment block at the top of courier_sandbox.py).
Courier answers every wrong password after 5 s: only two tests send one."""

import imaplib
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))

import courier_sandbox as cs  # noqa: E402
import popgate_fixture as pf  # noqa: E402  (tests/integration)
from dovecot_sandbox import _msg  # noqa: E402

ALICE, BOB, CAROL, DAVE = cs.ALICE, cs.BOB, cs.CAROL, cs.DAVE


def imap_listing(conn):
    """[(uid, RFC822.SIZE, BODY.PEEK[] bytes)] of the selected mailbox, in UID order."""
    typ, data = conn.uid("FETCH", "1:*", "(UID RFC822.SIZE BODY.PEEK[])")
    if typ != "OK":
        raise AssertionError(f"FETCH: {typ} {data}")
    out = []
    for item in data:
        if isinstance(item, tuple):
            m = re.search(rb"UID (\d+).*RFC822\.SIZE (\d+)", item[0])
            out.append((int(m.group(1)), int(m.group(2)), item[1]))
    return sorted(out)


def uidvalidity(conn, mailbox="INBOX"):
    typ, data = conn.status(mailbox, "(UIDVALIDITY)")
    return int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))


class CourierSandboxTest(unittest.TestCase):

    sandbox = None

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix=f"popgate-{cls.__name__}-")
        os.chmod(cls.workdir, 0o755)
        try:
            cls.sandbox = cs.Sandbox(os.path.join(cls.workdir, "courier")).start()
            cls.messages = cs.courier_messages()
            cls.sandbox.seed(*ALICE, cls.messages)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.sandbox is not None:
            cls.sandbox.stop()
        if os.environ.get("POPGATE_KEEP_TMP") != "1":
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def run(self, result=None):
        """On a failure, show what Courier logged."""
        before = len(result.failures) + len(result.errors) if result is not None else 0
        result = super().run(result)
        if result is not None and self.sandbox is not None and \
                len(result.failures) + len(result.errors) > before:
            sys.stderr.write("--- Courier logs, last lines:\n"
                             + "\n".join(self.sandbox.log_text().splitlines()[-40:]) + "\n")
        return result

    def imap(self, user=ALICE[0]):
        conn = self.sandbox.imap(user)
        self.addCleanup(conn.logout)
        return conn

    def pop3(self, user, password=None):
        conn = pf.RawPop3(self.sandbox.pop3_port)
        self.addCleanup(conn.close)
        reply = conn.login(user, self.sandbox.users[user] if password is None else password)
        self.assertTrue(reply.startswith(b"+OK"), f"POP3 login as {user}: {reply!r}")
        return conn

    def fresh_mailbox(self, user, align_uids=True):
        """An empty Maildir for a test of its own (bob, carol: nobody else uses them here)."""
        self.sandbox.new_maildir(user, align_uids=align_uids)

    # --- IMAP ---------------------------------------------------------------------------

    def test_imap_logins(self):
        for user in (ALICE, BOB, CAROL, DAVE):
            with self.subTest(user=user[0]):
                self.sandbox.imap(*user).logout()
        # LOGIN with two quoted strings too (imaplib quotes '"' and '\'): bob's password.
        for user in (ALICE, BOB):
            with self.subTest(quoted=user[0]):
                conn = imaplib.IMAP4(cs.HOST, self.sandbox.imap_port, timeout=30)
                self.assertEqual(conn.login(*user)[0], "OK")
                conn.logout()

    def test_imap_wrong_password_is_refused(self):
        started = time.monotonic()
        with self.assertRaisesRegex(imaplib.IMAP4.error, "Login failed"):
            self.sandbox.imap(ALICE[0], "not-" + ALICE[1])
        self.assertGreaterEqual(time.monotonic() - started, 4)  # Courier's 5 s penalty

    def test_imap_capability_has_uidplus(self):
        conn = self.imap()
        typ, data = conn.capability()
        self.assertEqual(typ, "OK")
        self.assertIn(b"UIDPLUS", data[0].split())

    def test_imap_drops_commands_pipelined_behind_login(self):
        # imaplogin execs imapd after LOGIN: the NOOP sent in the same write is never answered.
        with socket.create_connection((cs.HOST, self.sandbox.imap_port), timeout=10) as sock:
            def read_until(marker):
                data = b""
                while marker not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                return data
            self.assertTrue(read_until(b"\r\n").startswith(b"* OK"))
            sock.sendall(b'a LOGIN alice "alice-secret"\r\nb NOOP\r\n')
            self.assertEqual(read_until(b"a OK"), b"a OK LOGIN Ok.\r\n")
            sock.settimeout(1.5)
            with self.assertRaises(socket.timeout):
                sock.recv(65536)
            sock.settimeout(10)
            sock.sendall(b"c NOOP\r\n")
            self.assertEqual(read_until(b"\r\n"), b"c OK NOOP completed\r\n")

    def test_imap_has_the_stored_form(self):
        # Courier rewrites on APPEND: bare CR dropped, bare LF a line end, final CRLF added.
        conn = self.imap()
        conn.select("INBOX", readonly=True)
        stored = imap_listing(conn)
        self.assertEqual([body for _, _, body in stored],
                         [cs.courier_form(m) for m in self.messages])
        self.assertEqual([size for _, size, _ in stored],
                         [len(cs.courier_form(m)) for m in self.messages])
        by_subject = {re.search(rb"Subject: ([^\r\n]*)", m).group(1): cs.courier_form(m)
                      for m in self.messages}
        self.assertTrue(by_subject[b"no final crlf"].endswith(b"without newline\r\n"))
        self.assertIn(b"beforeafter on the same line\r\n", by_subject[b"bare cr"])
        self.assertIn(b"line one\r\nline two\r\n", by_subject[b"bare lf"])

    # --- Courier's own POP3 ---------------------------------------------------------------

    def test_pop3_logins(self):
        for user in (ALICE, BOB, CAROL, DAVE):
            with self.subTest(user=user[0]):
                self.assertTrue(self.pop3(*user).cmd("QUIT").startswith(b"+OK"))

    def test_pop3_wrong_password_is_refused(self):
        conn = pf.RawPop3(self.sandbox.pop3_port)
        self.addCleanup(conn.close)
        self.assertEqual(conn.login(ALICE[0], "wrong"), b"-ERR Login failed.\r\n")

    def test_pop3_stat_list_retr(self):
        conn = self.pop3(*ALICE)
        stored = [cs.courier_form(m) for m in self.messages]
        self.assertEqual(conn.cmd("STAT"), b"+OK %d %d\r\n" % (len(stored),
                                                                 sum(map(len, stored))))
        listing = conn.cmd_multi("LIST")
        self.assertEqual(pf.unstuff(listing),
                         b"".join(b"%d %d\r\n" % (n, len(m)) for n, m in enumerate(stored, 1)))
        for n, want in enumerate(stored, 1):
            with self.subTest(message=n):
                reply = conn.cmd_multi(f"RETR {n}")
                self.assertTrue(reply.startswith(b"+OK %d octets follow.\r\n" % len(want)))
                self.assertTrue(pf.unstuff(reply) == want,
                                pf.first_difference(want, pf.unstuff(reply)))
        conn.cmd("QUIT")

    def test_pop3_uidl_is_uid_dash_uidvalidity(self):
        # With the sandbox's aligned Maildirs, "UID<IMAP UID>-<IMAP UIDVALIDITY>", decimal.
        conn = self.imap()
        conn.select("INBOX", readonly=True)
        uids = [uid for uid, _, _ in imap_listing(conn)]
        validity = uidvalidity(conn)
        listing = self.pop3(*ALICE).cmd_multi("UIDL")
        self.assertEqual(pf.unstuff(listing),
                         b"".join(b"%d UID%d-%d\r\n" % (n, uid, validity)
                                  for n, uid in enumerate(uids, 1)))

    def test_pop3_uidl_is_pop3ds_own_numbering(self):
        """In a Maildir as Courier makes it, pop3d's UIDL is neither the IMAP UID nor the IMAP
        UIDVALIDITY: both come from courierpop3dsizelist."""
        self.fresh_mailbox(BOB[0], align_uids=False)
        self.sandbox.seed(*BOB, [_msg(b"first", b"1\r\n"), _msg(b"second", b"2\r\n")],
                          pop3_sync=False)
        conn = self.sandbox.imap(*BOB)
        conn.select("INBOX")
        imap_validity = uidvalidity(conn)
        conn.store("1", "+FLAGS.SILENT", r"(\Deleted)")  # before POP3 ever saw it
        conn.expunge()
        self.assertEqual([uid for uid, _, _ in imap_listing(conn)], [2])
        conn.logout()
        reply = self.pop3(*BOB).cmd_multi("UIDL")
        match = re.fullmatch(rb"\+OK\r\n1 UID(\d+)-(\d+)\r\n\.\r\n", reply)
        self.assertTrue(match, reply)
        with open(os.path.join(self.sandbox.maildir(BOB[0]), "courierpop3dsizelist")) as f:
            header = f.readline().split()
        self.assertEqual(int(match.group(1)), 1)  # pop3d's counter, not IMAP UID 2
        self.assertEqual(int(match.group(2)), int(header[2]))
        # imapd's own UIDVALIDITY is the time minus 10^9; pop3d's is the time.
        self.assertNotEqual(int(match.group(2)), imap_validity)
        self.assertAlmostEqual(int(match.group(2)), imap_validity + 10 ** 9, delta=120)

    def test_pop3_orders_by_file_name(self):
        """Two APPENDs in one second, the first in its first 0.1 s: "M<5 digits>" sorts after
        "M<6 digits>", so pop3d lists the second message first (IMAP UID order is the other)."""
        self.fresh_mailbox(CAROL[0])
        first, second = _msg(b"appended first", b"1\r\n"), _msg(b"appended second", b"2\r\n")
        for _ in range(5):
            conn = self.sandbox.imap(*CAROL)
            if int(conn.select("INBOX")[1][0]):
                conn.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                conn.expunge()
            time.sleep(1.02 - time.time() % 1)  # 20 ms into a second
            for raw in (first, second):
                if raw is second:
                    time.sleep(max(0.0, 0.15 - time.time() % 1))
                conn.literal = raw
                self.assertEqual(conn._simple_command("APPEND", "INBOX")[0], "OK")
            names = [name for _, name in sorted(self.sandbox.uid_file_names(CAROL[0]).items())]
            conn.logout()
            stamps = [re.match(r"(\d+)\.M(\d+)P", name).groups() for name in names[-2:]]
            if stamps[0][0] == stamps[1][0] and len(stamps[0][1]) < 6 <= len(stamps[1][1]):
                break  # the intended names; a busy machine may miss the window: try again
        else:
            self.skipTest(f"could not place two APPENDs in one second's first 0.1 s: {names}")
        listing = self.pop3(*CAROL).cmd_multi("TOP 1 0")
        self.assertIn(b"Subject: appended second\r\n", listing)

    # --- the sandbox itself -------------------------------------------------------------

    def test_two_sandboxes_have_their_own_users(self):
        """A second sandbox (its own authdaemond, userdb and socket) where alice has another
        password: both check alice against their own userdb, while both run and after one
        stopped."""
        other = cs.Sandbox(os.path.join(self.workdir, "other"),
                           users={ALICE[0]: "other-secret"}).start()
        try:
            other.imap(ALICE[0]).logout()
            self.sandbox.imap(*ALICE).logout()
            self.assertTrue(self.pop3(*ALICE).cmd("QUIT").startswith(b"+OK"))
        finally:
            other.stop()
        self.sandbox.imap(*ALICE).logout()
        self.assertTrue(self.pop3(*ALICE).cmd("QUIT").startswith(b"+OK"))


if __name__ == "__main__":
    unittest.main()
