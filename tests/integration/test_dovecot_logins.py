"""The logins popgate uses upstream, proven against the real Dovecot 2.3 with Python's imaplib
(no popgate here): a master user by SASL PLAIN's authorization identity (RFC 4616, no
"user*master" form), and OAuth2 tokens by XOAUTH2 and OAUTHBEARER (RFC 7628) checked by
tests/integration/token_service.py's introspection. Also the token service's own endpoints.
The sandbox options and the service are meant for popgate's end-to-end tests too."""

import base64
import imaplib
import json
import os
import shutil
import sys
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))

import dovecot_sandbox as ds  # noqa: E402
from token_service import TokenService  # noqa: E402  (tests/integration)

MASTER = ("popgate-master", "master-pw")
ALICE, BOB = ds.ALICE, ds.BOB


def xoauth2(user, token):
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer(user, port, token):
    return f"n,a={user},\x01host={ds.HOST}\x01port={port}\x01auth=Bearer {token}\x01\x01".encode()


class DovecotLoginsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.service = TokenService().start()
        cls.addClassCleanup(cls.service.stop)
        cls.dir = tempfile.mkdtemp(prefix="popgate-logins-", dir="/tmp")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.sandbox = ds.Sandbox(cls.dir, master_users=dict([MASTER]),
                                 oauth2_introspection_url=cls.service.introspection_url).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.sandbox.clear(ALICE[0])
        cls.sandbox.seed(*ALICE, [ds._msg(b"for alice", b"hello\r\n")])

    def authenticate(self, mechanism, message):
        """(imaplib's result or the error text, the server's challenges after the first)."""
        conn = imaplib.IMAP4(ds.HOST, self.sandbox.imap_port, timeout=30)
        self.addCleanup(conn.shutdown)
        challenges = []

        def answer(challenge):
            if challenge:  # an error challenge (RFC 7628 §3.2.2): answer with the dummy
                challenges.append(challenge)
                return b"\x01" if mechanism == "OAUTHBEARER" else b""
            return message

        try:
            typ, _ = conn.authenticate(mechanism, answer)
            return typ, conn, challenges
        except imaplib.IMAP4.error as e:
            return str(e), conn, challenges

    def assertInbox(self, conn, messages):
        typ, data = conn.select("INBOX", readonly=True)
        self.assertEqual((typ, int(data[0])), ("OK", messages))

    # --- master users -------------------------------------------------------------------

    def test_master_user_logs_in_as_alice_by_authzid(self):
        typ, conn, _ = self.authenticate("PLAIN", b"alice\0popgate-master\0master-pw")
        self.assertEqual(typ, "OK")
        self.assertInbox(conn, 1)  # alice's mailbox, not the master's

    def test_wrong_master_password_is_refused(self):
        typ, _, _ = self.authenticate("PLAIN", b"alice\0popgate-master\0wrong")
        self.assertIn("AUTHENTICATIONFAILED", typ)

    def test_master_user_for_an_unknown_user_is_refused(self):
        typ, _, _ = self.authenticate("PLAIN", b"nobody\0popgate-master\0master-pw")
        self.assertNotEqual(typ, "OK")

    def test_a_user_is_not_a_master(self):
        # Dovecot 2.3.19 words it as a failed authentication, not RFC 5530's AUTHORIZATIONFAILED.
        typ, _, _ = self.authenticate("PLAIN", b"alice\0bob\0" + BOB[1].encode())
        self.assertIn("AUTHENTICATIONFAILED", typ)

    def test_ordinary_logins_still_work(self):
        typ, conn, _ = self.authenticate("PLAIN", b"\0alice\0" + ALICE[1].encode())
        self.assertEqual(typ, "OK")
        self.assertInbox(conn, 1)

    # --- OAuth2 -------------------------------------------------------------------------

    def test_xoauth2_with_a_users_token(self):
        typ, conn, _ = self.authenticate("XOAUTH2", xoauth2("alice", self.service.issue("alice")))
        self.assertEqual(typ, "OK")
        self.assertInbox(conn, 1)

    def test_oauthbearer_with_a_users_token(self):
        token = self.service.issue("alice")
        typ, conn, _ = self.authenticate(
            "OAUTHBEARER", oauthbearer("alice", self.sandbox.imap_port, token))
        self.assertEqual(typ, "OK")
        self.assertInbox(conn, 1)

    def test_token_of_another_user_is_refused(self):
        typ, _, _ = self.authenticate("XOAUTH2", xoauth2("bob", self.service.issue("alice")))
        self.assertIn("AUTHENTICATIONFAILED", typ)

    def test_revoked_expired_and_unknown_tokens_are_refused(self):
        revoked, expired = self.service.issue("alice"), self.service.issue("alice")
        self.service.revoke(revoked)
        self.service.expire(expired)
        for mechanism in ("XOAUTH2", "OAUTHBEARER"):
            for token in (revoked, expired, "no-such-token"):
                message = (xoauth2("alice", token) if mechanism == "XOAUTH2"
                           else oauthbearer("alice", self.sandbox.imap_port, token))
                typ, _, challenges = self.authenticate(mechanism, message)
                self.assertIn("AUTHENTICATIONFAILED", typ, (mechanism, token))
                # Dovecot says why before its NO, as RFC 7628 §3.2.2 describes; for XOAUTH2 in
                # Google's form (an HTTP status), for OAUTHBEARER in RFC 7628's.
                self.assertEqual(len(challenges), 1, challenges)
                status = json.loads(challenges[0])
                want = "401" if mechanism == "XOAUTH2" else "invalid_token"
                self.assertEqual(status["status"], want, (mechanism, status))

    def test_app_only_token_for_the_user_the_service_names(self):
        # Dovecot 2.3.19 cannot tell the introspection which mailbox it is for (token_service's
        # docstring): without a user in the answer it fails temporarily.
        app = self.service.issue(None, client_id="popgate")
        typ, _, _ = self.authenticate("XOAUTH2", xoauth2("alice", app))
        self.assertIn("UNAVAILABLE", typ)
        self.service.app_only_user = "alice"
        try:
            typ, conn, _ = self.authenticate("XOAUTH2", xoauth2("alice", app))
        finally:
            self.service.app_only_user = None
        self.assertEqual(typ, "OK")


class TokenServiceTest(unittest.TestCase):
    def setUp(self):
        self.service = TokenService(clients={"popgate": "s3cret"},
                                    refresh_tokens={"rt-alice": "alice"}, expires_in=600).start()
        self.addCleanup(self.service.stop)

    def post(self, path, form, basic=None):
        request = urllib.request.Request(self.service.base_url + path,
                                         urllib.parse.urlencode(form).encode())
        if basic:
            request.add_header("Authorization",
                               "Basic " + base64.b64encode(":".join(basic).encode()).decode())
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def introspect(self, token):
        return self.post("/introspect", {"token": token})[1]

    def test_client_credentials_by_basic_or_form(self):
        status, body = self.post("/token", {"grant_type": "client_credentials"},
                                 basic=("popgate", "s3cret"))
        self.assertEqual((status, body["token_type"], body["expires_in"]), (200, "Bearer", 600))
        self.assertTrue(self.introspect(body["access_token"])["active"])
        status, body = self.post("/token", {"grant_type": "client_credentials",
                                            "client_id": "popgate", "client_secret": "s3cret"})
        self.assertEqual(status, 200)
        self.assertEqual(self.post("/token", {"grant_type": "client_credentials"},
                                   basic=("popgate", "bad"))[0], 401)
        self.assertEqual(self.service.requests["client_credentials"], 3)

    def test_refresh_with_rotation(self):
        self.service.rotate_refresh = True
        status, body = self.post("/token", {"grant_type": "refresh_token",
                                            "refresh_token": "rt-alice"})
        self.assertEqual(status, 200)
        self.assertEqual(self.introspect(body["access_token"])["username"], "alice")
        self.assertEqual(body["refresh_token"], self.service.refresh_token_for("alice"))
        status, body = self.post("/token", {"grant_type": "refresh_token",
                                            "refresh_token": "rt-alice"})
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))

    def test_failures_revocation_and_counters(self):
        self.service.fail_next(1, "500")
        self.service.fail_next(1, "invalid_grant")
        form = {"grant_type": "refresh_token", "refresh_token": "rt-alice"}
        self.assertEqual(self.post("/token", form)[0], 500)
        self.assertEqual(self.post("/token", form), (400, {
            "error": "invalid_grant", "error_description": "test: told to fail"}))
        status, body = self.post("/token", form)
        self.assertEqual(status, 200)
        self.service.revoke(body["access_token"])
        self.assertEqual(self.introspect(body["access_token"]), {"active": False})
        self.assertEqual(self.service.requests["refresh_token"], 3)
        self.assertEqual(self.service.requests["introspect"], 1)


if __name__ == "__main__":
    unittest.main()
