"""A mailbox of 20,000 messages through popgate, against Dovecot's own POP3 on the same store.

Issue 13 (huge mailboxes): STAT, UIDL and LIST of a large mailbox are complete and equal to
Dovecot's, LIST and UIDL stream (popgate never builds the whole reply), and the open session
costs popgate a bounded number of bytes per message (the snapshot is packed: MessageList).
The mailbox is written straight into the Maildir and indexed once by doveadm (seconds, where
20,000 APPENDs would take a minute). bench/huge_mailbox.py times the same with 100,000.
"""

import unittest

import popgate_fixture as pf
from dovecot_sandbox import ALICE, BOB

MESSAGES = 20_000
# popgate's RSS growth per message while the session is open: bench/huge_mailbox.py measures
# 19.6 B with 100,000 messages (8 for the list, 8 for the read-ahead's copy, the rest what the
# allocator keeps of the snapshot FETCH's 16 B a message), this test about 33 B with 20,000;
# the bound leaves room for the allocator. ASan keeps freed memory in quarantine.
MAX_BYTES_PER_MESSAGE = 128
MAX_BYTES_PER_MESSAGE_ASAN = 4096


def huge_mailbox(count):
    """Distinct small messages with LF line ends, of varying sizes (as a Maildir holds them)."""
    return [b"From: seed@example.net\nTo: alice@example.org\nSubject: message %d\n"
            b"Message-ID: <%d@huge.example.net>\n\n%s\n" % (n, n, b"x" * (n % 97))
            for n in range(1, count + 1)]


def listing_lines(reply):
    """The lines of a multi-line reply between the status line and the terminator."""
    lines = reply.split(b"\r\n")
    assert lines[-2:] == [b".", b""], reply[-20:]
    return lines[1:-2]


class HugeMailboxTest(pf.GatewayTestCase):

    @classmethod
    def seed_mail(cls):
        cls.sandbox.seed_maildir(ALICE[0], huge_mailbox(MESSAGES))
        cls.sandbox.seed(*BOB, [b"Subject: warm-up\r\n\r\nbody\r\n"])

    @classmethod
    def gateway_config(cls):
        config = super().gateway_config()
        config["log"] = {"level": "info"}  # trace would log each of the 20,000 FETCH lines
        return config

    def native(self, user, password):
        conn = pf.RawPop3(self.sandbox.pop3_port)
        self.addCleanup(conn.close)
        self.assertTrue(conn.login(user, password).startswith(b"+OK"))
        return conn

    def test_stat_uidl_and_list_equal_dovecots_with_bounded_memory(self):
        native = self.native(*ALICE)
        native_stat = native.cmd("STAT")
        native_uidl = native.cmd_multi("UIDL")
        native_list = native.cmd_multi("LIST")
        native.cmd("QUIT")
        self.assertTrue(native_stat.startswith(b"+OK %d " % MESSAGES), native_stat)

        # A session of a small mailbox first, so that what any session allocates once (the
        # worker's buffers, the logger) is in the baseline.
        warm = self.gateway_session(*BOB)
        self.assertEqual(warm.cmd("QUIT"), b"+OK Logging out.\r\n")
        pid = None if pf.SELFTEST else self.gateway.proc.pid
        before = pf.vm_kib(pid, "VmRSS") if pid else 0

        conn = self.gateway_session(*ALICE)
        self.assertEqual(conn.cmd("STAT"), native_stat)
        uidl = conn.cmd_multi("UIDL")
        listing = conn.cmd_multi("LIST")
        after = pf.vm_kib(pid, "VmRSS") if pid else 0

        self.assertEqual(len(listing_lines(uidl)), MESSAGES)
        self.assertEqual(len(listing_lines(listing)), MESSAGES)
        self.assertEqual(uidl, native_uidl, "UIDL differs from Dovecot's own POP3 at "
                         + pf.first_difference(uidl, native_uidl))
        self.assertEqual(listing, native_list, "LIST differs from Dovecot's own POP3 at "
                         + pf.first_difference(listing, native_list))
        # The last message is there and retrievable, as Dovecot numbers it.
        self.assertEqual(conn.cmd("UIDL %d" % MESSAGES),
                         b"+OK %d %s\r\n" % (MESSAGES, listing_lines(native_uidl)[-1].split()[1]))
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")

        if pid:
            per_message = (after - before) * 1024 / MESSAGES
            report = f"popgate RSS growth for an open {MESSAGES}-message mailbox: " \
                     f"{after - before} KiB, {per_message:.1f} B/message"
            print(report)
            bound = MAX_BYTES_PER_MESSAGE_ASAN if pf.sanitized(pid) else MAX_BYTES_PER_MESSAGE
            self.assertLess(per_message, bound, report)


if __name__ == "__main__":
    unittest.main()
