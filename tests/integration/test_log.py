"""What popgate writes to its log, against Dovecot: at log.level trace the IMAP exchange is there
with the password hidden and literals by size; bytes from the network are escaped."""

import base64
import time
import unittest

import popgate_fixture as pf
from dovecot_sandbox import ALICE, BOB, free_port


def plain_payload(user, password):
    """The SASL PLAIN message popgate sends upstream, as base64 (RFC 4616)."""
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()


class LogTest(pf.GatewayTestCase):

    @classmethod
    def seed_mail(cls):
        cls.sandbox.seed(*ALICE, [b"Subject: logged\r\n\r\nhello\r\n"])

    @classmethod
    def gateway_config(cls):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["log"] = {"level": "trace"}
        return config

    def wait_for_log(self, text, timeout_s=10):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if text in self.gateway.log_text():
                return True
            time.sleep(0.05)
        return False

    def test_trace_shows_the_imap_exchange_without_the_password(self):
        conn = self.gateway_session(*BOB)  # a password with spaces, quotes and a backslash
        conn.cmd("QUIT")
        conn = self.gateway_session(*ALICE)
        conn.cmd_multi("RETR 1")
        conn.cmd("QUIT")
        self.assertTrue(self.wait_for_log("LOGOUT"), self.gateway.log_text()[-3000:])
        log = self.gateway.log_text()
        # Dovecot offers SASL-IR and AUTH=PLAIN: the login is one AUTHENTICATE line.
        self.assertIn(" C: p1 AUTHENTICATE PLAIN ***", log)
        self.assertIn('EXAMINE "INBOX"', log)
        self.assertIn("UID FETCH 1:* (UID RFC822.SIZE)", log)
        self.assertRegex(log, r"S: \* 1 FETCH \(UID 1 BODY\[\] \{\d+\} <\d+ octets>")
        for secret in (ALICE[1], BOB[1], "bob pass", plain_payload(*BOB), plain_payload(*ALICE)):
            self.assertNotIn(secret, log)

    def test_a_login_name_cannot_forge_a_log_line(self):
        conn = self.connect()
        conn.send(b"USER evil\x1b[31mRED\rFAKE 2026 [info] admin logged in")
        conn.read_line()
        conn.send(b"PASS x")
        conn.read_line()
        self.assertTrue(self.wait_for_log("login evil"), self.gateway.log_text()[-3000:])
        with open(self.gateway.log_path, "rb") as f:
            raw = f.read()
        self.assertNotIn(b"\x1b[31m", raw)
        self.assertNotIn(b"\rFAKE", raw)
        self.assertIn(b"evil\\x1b[31mRED\\x0dFAKE", raw)


if __name__ == "__main__":
    unittest.main()
