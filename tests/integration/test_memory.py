"""Streaming: a 200 MB message goes through popgate with bounded memory, to a slow reader.

popgate must never hold a whole message: it reads the IMAP literal in chunks and stops reading
the upstream while the client's write queue is full. The test reads the peak RSS (VmHWM) of the
popgate process from /proc before and after the RETR; memory is asserted, time is not.
"""

import hashlib
import unittest

import popgate_fixture as pf
from dovecot_sandbox import ALICE

SIZE = 200 * 1024 * 1024
LINE = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz.\r\n"
MAX_GROWTH_KIB = 16 * 1024  # generous bound; bench/ reports the real figure


def big_message():
    header = b"From: big@example.net\r\nTo: alice@example.org\r\nSubject: 200 MB\r\n\r\n"
    body = LINE * ((SIZE - len(header)) // len(LINE))
    return header + body


class MemoryTest(pf.GatewayTestCase):

    @classmethod
    def seed_mail(cls):
        cls.message = big_message()
        cls.sandbox.seed(*ALICE, [cls.message])

    def test_200mb_retr_to_a_slow_reader_has_bounded_memory(self):
        if pf.SELFTEST:
            self.skipTest("measures the popgate process")
        pid = self.gateway.proc.pid
        conn = self.gateway_session(*ALICE)
        self.assertEqual(conn.cmd("LIST 1"), b"+OK 1 %d\r\n" % len(self.message))
        before = pf.vm_kib(pid, "VmHWM")
        conn.send("RETR 1")
        status = conn.read_line()
        self.assertEqual(status, b"+OK %d octets\r\n" % len(self.message))
        # No line starts with '.', so the reply is the message itself and ".\r\n".
        digest = pf.read_body_slowly(conn, len(self.message) + 3)
        growth = pf.vm_kib(pid, "VmHWM") - before
        report = f"peak RSS growth during a 200 MB RETR: {growth} KiB"
        print(report)
        self.assertLess(growth, MAX_GROWTH_KIB, report)
        self.assertEqual(digest, hashlib.sha256(self.message + b".\r\n").hexdigest())
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")


if __name__ == "__main__":
    unittest.main()
