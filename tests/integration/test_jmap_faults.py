"""What a POP3 client sees when the JMAP store misbehaves (a scripted server, fake_jmap.py):
never a +OK for work not done, never a body cut short and ended as if complete."""

import socket
import time
import unittest

import popgate_fixture as pf
from dovecot_sandbox import free_port
from fake_jmap import PASSWORD, USER, FakeJmap

MESSAGE = b"From: f@example.net\r\nSubject: faults\r\n\r\n" + b"line of the body\r\n" * 5000
SECOND = b"Subject: two\r\n\r\nsecond\r\n"


class FakeJmapTestCase(pf.GatewayTestCase):
    """A gateway whose only backend is a FakeJmap serving MESSAGES."""

    MESSAGES = [MESSAGE, SECOND]

    @classmethod
    def make_sandbox(cls):
        cls.fake = FakeJmap(cls.MESSAGES).start()
        return None

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.fake.stop()

    @classmethod
    def gateway_config(cls):
        config = pf.base_config(free_port(), free_port())
        config["backends"] = {"fake": {"type": "jmap", "url": cls.fake.url,
                                       "command_timeout_s": 2, "retry_budget_s": 2}}
        config["routing"] = {"default_backend": "fake"}
        return config


class JmapFaultsTest(FakeJmapTestCase):

    def setUp(self):
        self.fake.cut_download_after = None
        self.fake.stall_download = False
        self.fake.api_status, self.fake.api_failures_left = None, 0
        self.fake.refuse_destroy = set()

    def session(self):
        conn = self.gateway_session(USER, PASSWORD)
        return conn

    def assertCutShort(self, conn, command):
        """The status line, then bytes, then a close without the terminator."""
        conn.send(command)
        self.assertTrue(conn.read_line().startswith(b"+OK"))
        received = conn.buf
        conn.sock.settimeout(20)
        while True:
            chunk = conn.sock.recv(65536)
            if not chunk:
                break
            received += chunk
        self.assertFalse(received.endswith(b"\r\n.\r\n"), "a cut body ended as if complete")
        self.assertLess(len(received), len(MESSAGE))

    def test_download_cut_in_the_middle_closes_without_the_terminator(self):
        self.fake.cut_download_after = 20000
        self.assertCutShort(self.session(), "RETR 1")

    def test_download_that_stalls_closes_without_the_terminator(self):
        self.fake.stall_download = True
        self.assertCutShort(self.session(), "RETR 1")

    def test_api_error_at_login_is_sys_temp(self):
        self.fake.api_status, self.fake.api_failures_left = (500, {}), 10
        conn = self.connect()
        self.assertEqual(conn.login(USER, PASSWORD),
                         b"-ERR [SYS/TEMP] Mail store unavailable, try again later.\r\n")

    def test_retry_after_within_the_budget_logs_in(self):
        self.fake.api_status, self.fake.api_failures_left = (503, {"Retry-After": "1"}), 1
        conn = self.session()
        self.assertEqual(conn.cmd("STAT"), b"+OK 2 %d\r\n" % (len(MESSAGE) + len(SECOND)))

    def test_refused_deletion_is_not_a_plus_ok(self):
        self.fake.refuse_destroy = {"E2"}
        conn = self.session()
        conn.cmd("DELE 1")
        conn.cmd("DELE 2")
        self.assertEqual(conn.cmd("QUIT"),
                         b"-ERR [SYS/TEMP] 1 of 2 deleted messages were not removed.\r\n")
        self.assertIn("forbidden", self.gateway.log_text())

    def test_wrong_password_is_auth(self):
        conn = self.connect()
        self.assertEqual(conn.login(USER, "wrong"), b"-ERR [AUTH] Authentication failed.\r\n")


class JmapReadAheadFaultTest(FakeJmapTestCase):
    """A download ahead of the reader (read-ahead) that breaks is never what the reader gets:
    the message is downloaded again when its RETR comes."""

    MESSAGES = [b"Subject: %d\r\n\r\n" % n + b"body line %d\r\n" % n * 2000 for n in range(1, 6)]

    def test_a_download_cut_ahead_of_the_reader_is_asked_again(self):
        self.fake.cut_once = {"B3": 1000}
        self.fake.downloads.clear()
        conn = self.gateway_session(USER, PASSWORD)
        for n in (1, 2):
            self.assertEqual(conn.cmd_multi(f"RETR {n}"),
                             b"+OK %d octets\r\n" % len(self.MESSAGES[n - 1])
                             + self.MESSAGES[n - 1] + b".\r\n")
        deadline = time.monotonic() + 10
        while "B3" in self.fake.cut_once and time.monotonic() < deadline:
            time.sleep(0.05)  # the cut download ahead of the reader has been served
        self.assertNotIn("B3", self.fake.cut_once, "no download of message 3 ahead")
        time.sleep(0.2)  # and popgate has seen the close
        self.assertEqual(conn.cmd_multi("RETR 3"),
                         b"+OK %d octets\r\n" % len(self.MESSAGES[2]) + self.MESSAGES[2] + b".\r\n")
        self.assertEqual(self.fake.downloads.count("B3"), 2)
        self.assertEqual(conn.cmd_multi("RETR 4"),
                         b"+OK %d octets\r\n" % len(self.MESSAGES[3]) + self.MESSAGES[3] + b".\r\n")
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")


if __name__ == "__main__":
    unittest.main()
