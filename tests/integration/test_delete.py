"""Deletion semantics: only DELE + QUIT removes mail upstream, and reading leaves flags alone.

Each test starts from the same five messages in alice's INBOX. The upstream state is checked
twice, over IMAP (read-only EXAMINE) and over Dovecot's own POP3 (UIDL).
"""

import unittest

import popgate_fixture as pf
from dovecot_sandbox import ALICE, free_port

COUNT = 5
# The idle timer also runs while PASS waits for the upstream login, so it must outlast a login
# to Dovecot on a loaded machine, or the session ends before DELE; the test waits it out once.
IDLE_TIMEOUT_S = 5
CLOSE_WAIT_S = 30  # bound for the server to drop an idle session


def message(n):
    return (b"From: sender@example.net\r\nTo: alice@example.org\r\nSubject: delete-test %d\r\n"
            b"\r\nbody of message %d\r\n" % (n, n))


class DeleteTest(pf.GatewayTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            config = pf.base_config(cls.sandbox.imap_port, free_port(), IDLE_TIMEOUT_S)
            cls.idle_gateway = cls.start_gateway(config, "popgate-idle")
        except BaseException:
            cls.tearDownClass()
            raise

    def setUp(self):
        self.sandbox.clear(ALICE[0])
        self.sandbox.seed(*ALICE, [message(n) for n in range(1, COUNT + 1)])
        self.all_uidls = self.dovecot_uidls()
        self.assertEqual(len(self.all_uidls), COUNT)
        self.assertEqual(self.upstream_subjects(), list(range(1, COUNT + 1)))

    def dovecot_uidls(self):
        conn = self.connect_dovecot()
        self.assertTrue(conn.login(*ALICE).startswith(b"+OK"))
        reply = conn.cmd_multi("UIDL")
        conn.cmd("QUIT")
        return [line.split(b" ")[1] for line in reply.split(b"\r\n")[1:-2]]

    def upstream(self):
        """(imaplib connection on INBOX, message count); read-only, so checking sets no flag."""
        conn = self.sandbox.imap(ALICE[0])
        self.addCleanup(conn.logout)
        typ, data = conn.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")
        return conn, int(data[0])

    def upstream_subjects(self):
        """Message numbers n of the 'delete-test n' messages still in INBOX, in order."""
        conn, count = self.upstream()
        if count == 0:  # FETCH 1:* is BAD on an empty mailbox
            return []
        typ, data = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        return [int(part[1].split(b"delete-test ")[1].split(b"\r\n")[0])
                for part in data if isinstance(part, tuple)]

    def assertUpstream(self, numbers):
        self.assertEqual(self.upstream_subjects(), numbers, "messages left over IMAP")
        self.assertEqual(self.dovecot_uidls(), [self.all_uidls[n - 1] for n in numbers],
                         "UIDLs left in Dovecot's POP3")

    def test_dele_and_quit_removes_exactly_those(self):
        conn = self.gateway_session(*ALICE)
        self.assertTrue(conn.cmd("DELE 2").startswith(b"+OK"))
        self.assertTrue(conn.cmd("DELE 4").startswith(b"+OK"))
        # RFC 1939: the UPDATE state's removals are done before QUIT's +OK.
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))
        self.assertUpstream([1, 3, 5])

    def test_only_popgates_interrupted_deletions_are_undone(self):
        # A break between QUIT's UID STORE and UID EXPUNGE leaves `\Deleted $PopgateDeleting`
        # (test_faults.py makes one): the next login clears those, not another client's mark.
        writer = self.sandbox.imap(ALICE[0])
        self.addCleanup(writer.logout)
        self.assertEqual(writer.select("INBOX")[0], "OK")
        writer.store("1", "+FLAGS.SILENT", r"(\Deleted $PopgateDeleting)")
        writer.store("2", "+FLAGS.SILENT", r"(\Deleted)")
        conn = self.gateway_session(*ALICE)
        self.assertTrue(conn.cmd("STAT").startswith(b"+OK %d " % COUNT))
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))
        reader, _ = self.upstream()
        typ, data = reader.fetch("1:2", "(FLAGS)")
        self.assertEqual(typ, "OK")
        self.assertNotIn(b"Deleted", data[0])
        self.assertNotIn(b"$PopgateDeleting", data[0])
        self.assertIn(b"\\Deleted", data[1])

    def test_rset_undoes_marks(self):
        conn = self.gateway_session(*ALICE)
        stat = conn.cmd("STAT")
        listing = conn.cmd_multi("LIST")
        self.assertTrue(conn.cmd("DELE 1").startswith(b"+OK"))
        self.assertTrue(conn.cmd("DELE 3").startswith(b"+OK"))
        self.assertNotEqual(conn.cmd("STAT"), stat)
        self.assertTrue(conn.cmd("RSET").startswith(b"+OK"))
        self.assertEqual(conn.cmd("STAT"), stat)
        self.assertEqual(conn.cmd_multi("LIST"), listing)
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))
        self.assertUpstream([1, 2, 3, 4, 5])

    def test_close_without_quit_removes_nothing(self):
        conn = self.gateway_session(*ALICE)
        self.assertTrue(conn.cmd("DELE 1").startswith(b"+OK"))
        self.assertTrue(conn.cmd("DELE 5").startswith(b"+OK"))
        conn.close()
        # A new session gets in only once the dropped one has let the mailbox go.
        again = self.gateway_session(*ALICE)
        self.assertEqual(again.cmd("STAT").split(b" ")[:2], [b"+OK", b"%d" % COUNT])
        again.cmd("QUIT")
        self.assertUpstream([1, 2, 3, 4, 5])

    def test_idle_timeout_removes_nothing(self):
        conn = self.gateway_session(*ALICE, port=self.idle_gateway.port)
        self.assertTrue(conn.cmd("DELE 2").startswith(b"+OK"))
        self.assertTrue(conn.wait_closed(CLOSE_WAIT_S),
                        f"no disconnect within {CLOSE_WAIT_S} s with idle_timeout_s: "
                        f"{IDLE_TIMEOUT_S}; got {conn.buf!r}")
        again = self.gateway_session(*ALICE, port=self.idle_gateway.port)
        again.cmd("QUIT")
        self.assertUpstream([1, 2, 3, 4, 5])

    def test_reading_does_not_set_seen(self):
        conn = self.gateway_session(*ALICE)
        self.assertTrue(conn.cmd_multi("RETR 1").startswith(b"+OK"))
        self.assertTrue(conn.cmd_multi("RETR 3").startswith(b"+OK"))
        self.assertTrue(conn.cmd_multi("TOP 2 0").startswith(b"+OK"))
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))
        conn, _ = self.upstream()
        typ, data = conn.fetch("1:*", "(FLAGS)")
        self.assertEqual(typ, "OK")
        self.assertEqual(len(data), COUNT)
        for line in data:
            self.assertNotIn(rb"\Seen", line, "the gateway must fetch with BODY.PEEK")


if __name__ == "__main__":
    unittest.main()
