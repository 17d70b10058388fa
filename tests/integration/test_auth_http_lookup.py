"""routing.lookup: popgate asks the same auth_http service that test_auth_http_nginx.py shows a
real nginx mail proxy accepting (auth_http_service.py), unchanged, where each POP3 user lives and
whether the credentials are good; then logs in to the Dovecot sandbox's IMAP at Auth-Server and
Auth-Port with the template backend's settings. The service's table points at Dovecot's IMAP
port here (nginx relays POP3 to POP3; popgate translates to IMAP).
"""

import base64
import hashlib
import hmac
import poplib
import re
import time

import popgate_fixture as pf
from auth_http_service import REFUSAL_TEXT, Account, AuthHttpService
from dovecot_sandbox import ALICE, BOB, DAVE, free_port

MESSAGE = (b"From: Sender <sender@example.net>\r\nTo: bob@example.org\r\n"
           b"Subject: through the lookup\r\nMessage-ID: <lookup-1@popgate.test>\r\n\r\n"
           b"Routed by an auth_http service.\r\n.dot line\r\n")
WAIT_S = 1
TIMEOUT_S = 2


class AuthHttpLookupTest(pf.GatewayTestCase):

    @classmethod
    def seed_mail(cls):
        for user, password in (ALICE, BOB, DAVE):
            cls.sandbox.seed(user, password, [MESSAGE])

    @classmethod
    def gateway_config(cls):
        imap = cls.sandbox.imap_port
        cls.service = AuthHttpService({
            BOB[0]: Account(BOB[1], pf.HOST, imap),
            DAVE[0]: Account(DAVE[1], pf.HOST, imap),
            # The service logs the POP3 name "alias" in upstream as alice, with her password.
            "alias": Account("alias pass", pf.HOST, imap, ALICE[0], ALICE[1]),
        }, wait_s=WAIT_S).start()
        config = pf.base_config(imap, free_port())
        config["workers"] = 1  # the lookup cache is per worker; one, so the cache test is exact
        del config["routing"]["default_backend"]
        del config["routing"]["domains"]
        config["routing"]["lookup"] = {"url": cls.service.url(), "backend": "local",
                                       "timeout_s": TIMEOUT_S,
                                       "cache": {"positive_s": 60, "negative_s": 0}}
        return config

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if getattr(cls, "service", None):
            cls.service.stop()

    def setUp(self):
        self.service.hang = False
        self.service.fail_status = None

    def retr_one(self, conn):
        reply = conn.cmd_multi("RETR 1")
        self.assertEqual(pf.unstuff(reply), MESSAGE)
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))

    def test_user_pass_with_spaces_is_routed_and_retrieves(self):
        conn = self.connect()
        self.assertTrue(conn.login(*BOB).startswith(b"+OK"))
        self.retr_one(conn)
        # The first login with this password asked the service (later ones hit the cache).
        seen = [r for r in self.service.requests
                if r["user"] == BOB[0] and r["method"] == "plain" and r["pass"] == BOB[1]][0]
        self.assertIn(b"%20", seen["raw_pass"], "spaces escaped as nginx escapes them")
        self.assertEqual(seen["headers"]["Auth-Protocol"], "pop3")
        self.assertEqual(seen["headers"]["Client-IP"], "127.0.0.1")

    def test_eight_bit_password(self):
        conn = self.connect()
        self.assertTrue(conn.login(*DAVE).startswith(b"+OK"))
        self.retr_one(conn)

    def test_service_answer_replaces_the_upstream_login(self):
        conn = self.connect()
        self.assertTrue(conn.login("alias", "alias pass").startswith(b"+OK"))
        self.retr_one(conn)
        deadline = time.monotonic() + 30  # Dovecot's log process writes asynchronously
        while "Login: user=<alice>" not in self.sandbox.log_text():
            self.assertLess(time.monotonic(), deadline, "Dovecot never logged alice in")
            time.sleep(0.05)

    def test_refusal_text_after_auth_wait(self):
        conn = self.connect()
        conn.cmd("USER bob")
        start = time.monotonic()
        reply = conn.cmd("PASS wrong")
        self.assertEqual(reply, b"-ERR [AUTH] " + REFUSAL_TEXT.encode() + b"\r\n")
        self.assertGreaterEqual(time.monotonic() - start, WAIT_S * 0.99)
        # The session goes on: its second try is attempt 2, and the right password logs in.
        self.assertTrue(conn.login(BOB[0], BOB[1] + "x").startswith(b"-ERR [AUTH]"))
        self.assertEqual(self.service.last_request()["headers"]["Auth-Login-Attempt"], "2")
        self.assertTrue(conn.login(*BOB).startswith(b"+OK"))
        conn.cmd("QUIT")

    def test_service_errors_are_temporary_never_auth(self):
        self.service.fail_status = 500
        reply = self.connect().login(BOB[0], "never cached")
        self.assertTrue(reply.startswith(b"-ERR [SYS/TEMP]"), reply)

    def test_hanging_service_times_out_as_temporary(self):
        self.service.hang = True
        conn = self.connect()
        conn.cmd("USER dave")
        start = time.monotonic()
        reply = conn.cmd(b"PASS not-cached")
        self.assertTrue(reply.startswith(b"-ERR [SYS/TEMP]"), reply)
        self.assertGreaterEqual(time.monotonic() - start, TIMEOUT_S * 0.99)

    def test_apop_goes_to_the_service_with_the_greeting_salt(self):
        client = poplib.POP3(pf.HOST, self.port, timeout=30)
        self.addCleanup(client.close)
        self.assertRegex(client.getwelcome(), rb"<\d+\.\d+\.\d+@[^>]+>$")
        client.apop(BOB[0], BOB[1])
        self.assertEqual(client.stat()[0], 1)
        client.quit()
        seen = self.service.last_request()
        self.assertEqual(seen["method"], "apop")
        self.assertEqual(seen["salt"], re.search(rb"<[^>]+>", client.getwelcome()).group().decode())

    def test_cram_md5_goes_to_the_service_with_the_challenge(self):
        conn = self.connect()
        capa = conn.cmd_multi("CAPA")
        self.assertIn(b"CRAM-MD5", capa)
        challenge = base64.b64decode(conn.cmd("AUTH CRAM-MD5")[2:].strip())
        digest = hmac.new(BOB[1].encode(), challenge, hashlib.md5).hexdigest()
        reply = conn.cmd(base64.b64encode(f"{BOB[0]} {digest}".encode()))
        self.assertTrue(reply.startswith(b"+OK"), reply)
        conn.cmd("QUIT")
        seen = self.service.last_request()
        self.assertEqual((seen["method"], seen["salt"]), ("cram-md5", challenge.decode()))

    def test_positive_answers_are_cached(self):
        for _ in range(2):
            conn = pf.login_retrying_in_use(self.port, *DAVE)
            conn.cmd("QUIT")
            conn.close()
        asked = [r for r in self.service.requests if r["user"] == DAVE[0] and r["pass"] == DAVE[1]]
        self.assertEqual(len(asked), 1, "the second login was answered from the cache")
