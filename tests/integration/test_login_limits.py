"""Abuse limits (issue 11): failed logins slow down and then refuse one client address, while
the right password from another address goes through at once; connections are bounded in total
and per address; a client that does not log in, or keeps sending bad commands, is closed.

Other addresses are other loopback addresses (127.0.0.2, ...), which Linux routes to lo. Delays
are checked only from below (a configured delay cannot be shorter), or against a bound a
thousand times a normal login's time.
"""

import time

import popgate_fixture as pf
from dovecot_sandbox import ALICE, free_port

OTHER = "127.0.0.2"
FIRST_DELAY_MS = 100
MAX_DELAY_S = 2
REFUSE_AFTER = 8


class LoginLimitsTest(pf.GatewayTestCase):

    @classmethod
    def gateway_config(cls):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["limits"] = {
            "max_connections_per_address": 4,
            "failed_logins": {"window_s": 600, "first_delay_ms": FIRST_DELAY_MS,
                              "max_delay_s": MAX_DELAY_S, "refuse_after": REFUSE_AFTER},
        }
        config["session"] = {"idle_timeout_s": 600, "max_bad_commands": 3}
        return config

    def timed_login(self, user, password, source=None):
        with pf.RawPop3(self.port, source=source) as conn:
            self.assertTrue(conn.cmd(b"USER " + user.encode()).startswith(b"+OK"))
            start = time.monotonic()
            reply = conn.cmd(b"PASS " + password.encode())
            took = time.monotonic() - start
            if reply.startswith(b"+OK"):
                conn.cmd("QUIT")
            return reply, took

    def test_1_failures_slow_down_then_refuse_the_address_not_another(self):
        # Wrong passwords from 127.0.0.3, each for another name: the address's record grows.
        guesser = "127.0.0.3"
        replies, took = [], []
        for n in range(50):
            reply, seconds = self.timed_login(f"guess{n}", "wrong", source=guesser)
            replies.append(reply)
            took.append(seconds)
        for n in range(REFUSE_AFTER):
            self.assertTrue(replies[n].startswith(b"-ERR [AUTH]"), (n, replies[n]))
            want = min(FIRST_DELAY_MS / 1000 * 2 ** n, MAX_DELAY_S)
            self.assertGreaterEqual(took[n], want * 0.99, f"failure {n + 1} came too soon")
        for n in range(REFUSE_AFTER, 50):
            self.assertTrue(replies[n].startswith(b"-ERR [SYS/TEMP] Too many failed logins"),
                            (n, replies[n]))
        # Even the right password is refused from that address now, unchecked...
        reply, _ = self.timed_login(*ALICE, source=guesser)
        self.assertTrue(reply.startswith(b"-ERR [SYS/TEMP]"), reply)
        # ...but not from another, and not slowed: the bound is MAX_DELAY_S, a login takes ms.
        reply, seconds = self.timed_login(*ALICE, source=OTHER)
        self.assertTrue(reply.startswith(b"+OK"), reply)
        self.assertLess(seconds, MAX_DELAY_S)

    def test_2_one_name_guessed_from_many_addresses_is_slowed_never_refused(self):
        for n in range(4):
            reply, _ = self.timed_login("alice", "wrong", source=f"127.0.1.{n + 1}")
            self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)
        reply, seconds = self.timed_login("alice", "wrong", source="127.0.1.9")
        self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)
        self.assertGreaterEqual(seconds, FIRST_DELAY_MS / 1000 * 2 ** 4 * 0.99)
        reply, _ = self.timed_login(*ALICE, source="127.0.1.10")
        self.assertTrue(reply.startswith(b"+OK"), reply)

    def test_connections_per_address(self):
        source = "127.0.0.4"
        held = [pf.RawPop3(self.port, source=source) for _ in range(4)]
        for conn in held:
            self.addCleanup(conn.close)
            self.assertTrue(conn.greeting.startswith(b"+OK"), conn.greeting)
        with pf.RawPop3(self.port, source=source) as extra:
            self.assertEqual(extra.greeting,
                             b"-ERR [SYS/TEMP] Too many connections, try again later.\r\n")
        with pf.RawPop3(self.port, source="127.0.0.5") as other:
            self.assertTrue(other.greeting.startswith(b"+OK"), other.greeting)
        held.pop().close()
        deadline = time.monotonic() + 10
        while True:  # the server notices the close on its next loop turn
            with pf.RawPop3(self.port, source=source) as again:
                if again.greeting.startswith(b"+OK") or time.monotonic() > deadline:
                    self.assertTrue(again.greeting.startswith(b"+OK"), again.greeting)
                    break
            time.sleep(0.05)

    def test_bad_commands_close_the_connection(self):
        conn = pf.RawPop3(self.port, source="127.0.0.6")
        self.addCleanup(conn.close)
        for _ in range(2):
            self.assertTrue(conn.cmd("BOGUS").startswith(b"-ERR"))
        last = conn.cmd("BOGUS")
        self.assertTrue(last.startswith(b"-ERR"), last)
        conn.wait_closed(10)


class LoginTimeoutTest(pf.GatewayTestCase):

    @classmethod
    def gateway_config(cls):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["session"] = {"idle_timeout_s": 600, "login_timeout_s": 2}
        return config

    @property
    def timed(self):
        return self.gateway

    def test_no_login_within_the_login_timeout_closes(self):
        conn = self.connect(self.timed.port)
        # Activity does not extend the time to log in.
        self.assertTrue(conn.cmd_multi("CAPA").startswith(b"+OK"))
        self.assertEqual(conn.read_line(), b"-ERR Disconnected for inactivity.\r\n")
        conn.wait_closed(10)
        # A session that logged in is not bound by it.
        session = self.gateway_session(*ALICE, port=self.timed.port)
        time.sleep(2.5)
        self.assertTrue(session.cmd("NOOP").startswith(b"+OK"))
        session.cmd("QUIT")


class LoginDelayTest(pf.GatewayTestCase):
    """RFC 2449 LOGIN-DELAY and EXPIRE from the backend's login block: announced by CAPA before
    and after login, and LOGIN-DELAY enforced on the next login of the same mailbox."""

    @classmethod
    def gateway_config(cls):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["backends"]["local"]["login"] = {"login_delay_s": 600, "expire_days": "never"}
        return config

    def test_capa_announces_and_the_second_login_is_refused(self):
        with pf.RawPop3(self.port) as conn:
            capa = conn.cmd_multi("CAPA")
            self.assertIn(b"\r\nLOGIN-DELAY 600\r\n", capa)
            self.assertIn(b"\r\nEXPIRE NEVER\r\n", capa)
            self.assertTrue(conn.login(*ALICE).startswith(b"+OK"))
            self.assertIn(b"\r\nLOGIN-DELAY 600\r\n", conn.cmd_multi("CAPA"))
            conn.cmd("QUIT")
        with pf.RawPop3(self.port) as conn:
            self.assertEqual(conn.login(*ALICE),
                             b"-ERR [LOGIN-DELAY] Minimum time between logins not yet passed.\r\n")
        with pf.RawPop3(self.port) as conn:
            self.assertTrue(conn.login("bob", "wrong").startswith(b"-ERR [AUTH]"),
                            "a wrong password is [AUTH], not LOGIN-DELAY")
