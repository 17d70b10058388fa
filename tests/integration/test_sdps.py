"""SDPS routing: "user@host" and "user+host" pick a backend by host; anything else goes to the
default backend unchanged, and without a default backend it is refused.
"""

import re
import time
import unittest

import popgate_fixture as pf
from dovecot_sandbox import ALICE, CAROL, free_port

LOG_WAIT_S = 30  # Dovecot's log process writes asynchronously (ends once the line is there)


def message(n):
    return b"From: a@example.net\r\nSubject: sdps %d\r\n\r\nbody %d\r\n" % (n, n)


class SdpsTest(pf.GatewayTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            config = pf.base_config(cls.sandbox.imap_port, free_port())
            del config["routing"]["default_backend"]
            cls.no_default = cls.start_gateway(config, "popgate-no-default")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def seed_mail(cls):
        cls.sandbox.seed(*CAROL, [message(n) for n in (1, 2, 3)])
        cls.sandbox.seed(*ALICE, [message(9)])

    def uidl(self, port, user, password):
        """UIDL reply from the mailbox that this login reaches."""
        conn = pf.login_retrying_in_use(port, user, password)
        self.addCleanup(conn.close)
        reply = conn.cmd_multi("UIDL")
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))
        return reply

    def test_at_and_plus_reach_the_same_mailbox(self):
        reference = self.uidl(self.sandbox.pop3_port, *CAROL)
        self.assertEqual(reference.count(b"\r\n"), 1 + 3 + 1, reference)  # +OK, 3 UIDs, "."
        user, password = CAROL
        self.assertEqual(self.uidl(self.port, user, password), reference, user)
        plus = user.replace("@", "+")
        self.assertEqual(self.uidl(self.port, plus, password), reference, plus)

    def test_unknown_domain_goes_to_default_backend_unchanged(self):
        user = "carol@unknown.test"
        reply = self.connect().login(user, CAROL[1])
        self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)
        # Dovecot logs (auth_verbose) the exact name its passdb was asked about.
        pattern = re.compile(r"passwd-file\(" + re.escape(user) + r",.*unknown user")
        deadline = time.monotonic() + LOG_WAIT_S
        while not pattern.search(self.sandbox.log_text()):
            self.assertLess(time.monotonic(), deadline,
                            f"Dovecot never saw a login as {user!r}")
            time.sleep(0.1)

    def test_without_default_backend_plain_names_are_refused(self):
        reply = self.connect(self.no_default.port).login(*ALICE)
        self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)
        # Domain rules still route on the same gateway.
        conn = self.gateway_session(*CAROL, port=self.no_default.port)
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))


if __name__ == "__main__":
    unittest.main()
