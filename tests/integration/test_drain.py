"""Graceful drain: SIGTERM (or SIGINT) stops accepting, lets sessions finish for
shutdown_timeout_s, then closes the rest without deleting anything, and popgate exits 0.

Every test starts its own popgate (two workers, so that both loops must drain) in front of the
class's Dovecot, signals it and waits for it to exit. Waits are bounded generously and the
assertions are on outcomes (bytes, exit codes, what Dovecot still holds), never on durations.
"""

import signal
import socket
import subprocess
import time
import unittest

import popgate_fixture as pf
from dovecot_sandbox import ALICE, HOST, big_message, free_port

EXIT_WAIT_S = 60  # "exits at once" still gets this long on a loaded machine
LOG_WAIT_S = 30
DRAIN_STARTED = "no longer accepting"
CLOSED_AT_START = b"-ERR [SYS/TEMP] Server shutting down, try again later.\r\n"
CLOSED_AT_TIMEOUT = b"-ERR [SYS/TEMP] Server shutting down.\r\n"


def small_message(n):
    return (b"From: sender@example.net\r\nTo: alice@example.org\r\nSubject: drain-test %d\r\n"
            b"\r\nbody of message %d\r\n" % (n, n))


def wire_reply(raw):
    """RETR's reply after the status line: dot-stuffed content, then the terminating dot."""
    data = pf.pop3_form(raw)
    stuffed = data.replace(b"\r\n.", b"\r\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    return stuffed + b".\r\n"


class SlowReader(pf.RawPop3):
    """A client with a small receive buffer (set before connect, so that the window stays
    small): popgate's back-pressure, not the network, paces a long RETR."""

    def __init__(self, port, rcvbuf=16 * 1024):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(pf.IO_TIMEOUT_S)
        self.sock.connect((HOST, port))
        self.buf = b""
        self.greeting = self.read_line()


@unittest.skipIf(pf.SELFTEST, "signals the popgate process")
class DrainTest(pf.GatewayTestCase):

    @classmethod
    def seed_mail(cls):
        cls.big = big_message(20)

    def seed(self, messages):
        self.sandbox.clear(ALICE[0])
        self.sandbox.seed(*ALICE, messages)

    def drained_gateway(self, shutdown_timeout_s):
        config = pf.base_config(self.sandbox.imap_port, free_port())
        config["workers"] = 2
        config["shutdown_timeout_s"] = shutdown_timeout_s
        return self.start_gateway(config, f"popgate-{self._testMethodName}")

    def send_signal(self, gateway, signum=signal.SIGTERM):
        gateway.proc.send_signal(signum)

    def wait_log(self, gateway, text, count=1):
        deadline = time.monotonic() + LOG_WAIT_S
        while gateway.log_text().count(text) < count:
            if time.monotonic() > deadline or gateway.proc.poll() is not None:
                self.fail(f"no {text!r} in popgate's log")
            time.sleep(0.05)

    def assertExitsCleanly(self, gateway):
        try:
            code = gateway.proc.wait(EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            self.fail(f"popgate still runs {EXIT_WAIT_S} s after the drain should have ended")
        self.assertEqual(code, 0, "exit status")
        self.assertIn("drained in", gateway.log_text())

    def upstream_subjects(self):
        """Subjects' numbers of the messages Dovecot still has, read-only over IMAP."""
        conn = self.sandbox.imap(ALICE[0])
        self.addCleanup(conn.logout)
        typ, data = conn.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")
        if int(data[0]) == 0:
            return []
        typ, data = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        return [int(part[1].split(b"drain-test ")[1].split(b"\r\n")[0])
                for part in data if isinstance(part, tuple)]

    def dovecot_pop3_count(self):
        conn = self.connect_dovecot()
        self.assertTrue(conn.login(*ALICE).startswith(b"+OK"))
        stat = conn.cmd("STAT")
        conn.cmd("QUIT")
        return int(stat.split()[1])

    def test_retr_to_a_slow_reader_finishes_within_the_timeout(self):
        self.seed([self.big])
        gateway = self.drained_gateway(shutdown_timeout_s=120)
        conn = SlowReader(gateway.port)
        self.addCleanup(conn.close)
        self.assertTrue(conn.login(*ALICE).startswith(b"+OK"))
        expected = wire_reply(self.big)
        conn.send("RETR 1")
        self.assertEqual(conn.read_line(), b"+OK %d octets\r\n" % len(pf.stored_form(self.big)))
        received = bytearray(conn.buf)
        conn.buf = b""
        while len(received) < 1024 * 1024:
            chunk = conn.sock.recv(16 * 1024)
            self.assertTrue(chunk, "closed inside the RETR")
            received += chunk
        self.send_signal(gateway)
        # We read nothing meanwhile: the drain starts with most of the message still to come.
        self.wait_log(gateway, DRAIN_STARTED)
        self.assertLess(len(received), len(expected) // 2)
        while len(received) < len(expected):
            chunk = conn.sock.recv(16 * 1024)
            self.assertTrue(chunk, f"closed inside the RETR after {len(received)} bytes")
            received += chunk
            time.sleep(0.002)
        self.assertTrue(bytes(received) == expected,
                        pf.first_difference(expected, bytes(received)))
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")
        self.assertTrue(conn.wait_closed(pf.IO_TIMEOUT_S))
        self.assertExitsCleanly(gateway)

    def test_reader_that_stops_reading_cannot_hold_the_process(self):
        self.seed([self.big])
        gateway = self.drained_gateway(shutdown_timeout_s=1)
        conn = SlowReader(gateway.port)
        self.addCleanup(conn.close)
        self.assertTrue(conn.login(*ALICE).startswith(b"+OK"))
        conn.send("RETR 1")
        self.assertTrue(conn.read_line().startswith(b"+OK"))
        self.send_signal(gateway)
        # The client reads nothing more: at the timeout popgate cuts the RETR, and what is still
        # queued for the client is dropped a few seconds later.
        self.assertExitsCleanly(gateway)
        received = bytearray(conn.buf)
        while True:
            try:
                chunk = conn.sock.recv(1 << 20)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        expected = wire_reply(self.big)
        self.assertLess(len(received), len(expected), "the cut reply must lack its end")
        self.assertTrue(expected.startswith(bytes(received)), "what came is the message's start")

    def test_marked_messages_survive_a_drain_without_quit(self):
        self.seed([small_message(n) for n in (1, 2, 3)])
        gateway = self.drained_gateway(shutdown_timeout_s=2)
        conn = self.gateway_session(*ALICE, port=gateway.port)
        self.assertEqual(conn.cmd("DELE 1"), b"+OK Marked to be deleted.\r\n")
        self.assertEqual(conn.cmd("DELE 2"), b"+OK Marked to be deleted.\r\n")
        self.send_signal(gateway)
        # The client never sends QUIT: at the timeout popgate closes it without UPDATE.
        self.assertTrue(conn.wait_closed(EXIT_WAIT_S), "popgate kept the session open")
        self.assertEqual(conn.buf, CLOSED_AT_TIMEOUT)
        self.assertExitsCleanly(gateway)
        self.assertEqual(self.upstream_subjects(), [1, 2, 3], "messages left over IMAP")
        self.assertEqual(self.dovecot_pop3_count(), 3, "messages in Dovecot's own POP3")

    def test_idle_gateway_exits_at_once(self):
        gateway = self.drained_gateway(shutdown_timeout_s=600)
        self.send_signal(gateway)
        self.assertExitsCleanly(gateway)
        self.assertRegex(gateway.log_text(), r"signal 15: no longer accepting; draining \(sessions: \d+, timeout: 600 s\)")

    def test_sigint_drains_too(self):
        gateway = self.drained_gateway(shutdown_timeout_s=600)
        self.send_signal(gateway, signal.SIGINT)
        self.assertExitsCleanly(gateway)

    def test_authorization_is_closed_while_a_transaction_goes_on(self):
        self.seed([small_message(1)])
        gateway = self.drained_gateway(shutdown_timeout_s=120)
        logged_in = self.gateway_session(*ALICE, port=gateway.port)
        waiting = self.connect(gateway.port)
        self.assertEqual(waiting.cmd("USER bob"), b"+OK\r\n")
        self.send_signal(gateway)
        self.assertTrue(waiting.wait_closed(EXIT_WAIT_S), "AUTHORIZATION session kept open")
        self.assertEqual(waiting.buf, CLOSED_AT_START)
        # The logged-in client is unaffected: it reads, marks, and its QUIT commits.
        self.assertTrue(logged_in.cmd("STAT").startswith(b"+OK 1 "))
        self.assertEqual(logged_in.cmd("DELE 1"), b"+OK Marked to be deleted.\r\n")
        self.assertEqual(logged_in.cmd("QUIT"), b"+OK Logging out.\r\n")
        self.assertExitsCleanly(gateway)
        self.assertEqual(self.upstream_subjects(), [])

    def test_new_connections_are_refused_during_the_drain(self):
        self.seed([small_message(1)])
        gateway = self.drained_gateway(shutdown_timeout_s=120)
        logged_in = self.gateway_session(*ALICE, port=gateway.port)
        self.send_signal(gateway)
        self.wait_log(gateway, DRAIN_STARTED)
        for _ in range(4):  # with two workers, each had its own listening socket
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection((HOST, gateway.port), timeout=pf.IO_TIMEOUT_S).close()
        self.assertEqual(gateway.proc.poll(), None, "popgate must wait for the logged-in client")
        self.assertEqual(logged_in.cmd("QUIT"), b"+OK Logging out.\r\n")
        self.assertExitsCleanly(gateway)

    def test_second_signal_closes_what_is_left(self):
        self.seed([small_message(1), small_message(2)])
        gateway = self.drained_gateway(shutdown_timeout_s=3600)
        conn = self.gateway_session(*ALICE, port=gateway.port)
        self.assertEqual(conn.cmd("DELE 2"), b"+OK Marked to be deleted.\r\n")
        self.send_signal(gateway)
        self.wait_log(gateway, DRAIN_STARTED)
        self.send_signal(gateway)
        self.assertTrue(conn.wait_closed(EXIT_WAIT_S), "the second SIGTERM did not close it")
        self.assertEqual(conn.buf, CLOSED_AT_TIMEOUT)
        self.assertExitsCleanly(gateway)
        self.assertEqual(self.upstream_subjects(), [1, 2])


if __name__ == "__main__":
    unittest.main()
