"""Login modes end to end against a real Dovecot (issue 11): popgate checks the POP3 user itself
against a passwd-file and logs in upstream as a master user (`master`) or with an OAuth2 token
from a token endpoint (`oauth2`: client credentials, or per-user refresh tokens rotated and
written back), or passes the client's own token (`token`). Dovecot has a master passdb and an
oauth2 passdb whose introspection URL token_service.py answers; it is also the token endpoint.
Real clients speak each mechanism: curl, mpop, fetchmail, Python's poplib.

[AUTH] means the client's credentials are wrong; anything popgate's own credential or the token
endpoint does wrong is [SYS/TEMP] (RFC 3206), never [AUTH].
"""

import base64
import json
import os
import poplib
import signal
import time

import login_fixture as lf
import popgate_fixture as pf
from dovecot_sandbox import ALICE, BOB, CAROL, DAVE, Sandbox, free_port
from token_service import TokenService

MASTER = ("popgate-master", "master-pw-8f3a")
CLIENT = ("popgate", "client-secret-77c1")
LOCAL = {  # the POP3 users' passwords in popgate's passwd-file, not the store's
    ALICE[0]: ("alice local pw", "SHA512-CRYPT"),
    BOB[0]: ("bob-local-blf", "BLF-CRYPT"),
    CAROL[0]: ("carol-local-plain", "PLAIN"),  # APOP and CRAM-MD5 need the plaintext
    DAVE[0]: ("dave-local-argon", "ARGON2ID"),
}
MESSAGE = b"From: a@example.net\r\nSubject: login modes\r\n\r\nbody\r\n"
TOKEN_TIMEOUT_S = 2


def local(user):
    return LOCAL[user][0]


class LoginModesTest(pf.GatewayTestCase):

    @classmethod
    def make_sandbox(cls):
        cls.tokens = TokenService(clients=dict([CLIENT]), rotate_refresh=True,
                                  refresh_tokens={"rt-bob-1": BOB[0], "rt-dave-1": DAVE[0],
                                                  "rt-carol-1": CAROL[0]}).start()
        cls.tokens.app_only_user = ALICE[0]  # Dovecot cannot say which user it asks about
        pf.add_secret(MASTER[1], CLIENT[1], "rt-bob-1", "rt-dave-1", "rt-carol-1")
        return Sandbox(os.path.join(cls.workdir, "dovecot"), master_users=dict([MASTER]),
                       oauth2_introspection_url=cls.tokens.introspection_url).start()

    @classmethod
    def seed_mail(cls):
        for user, password in (ALICE, BOB, CAROL, DAVE):
            cls.sandbox.seed(user, password, [MESSAGE])

    @classmethod
    def config_with(cls, login):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["backends"]["local"]["login"] = login
        config["workers"] = 1  # token caches are per worker: one, so the counts are exact
        return config

    @classmethod
    def gateway_config(cls):
        cls.users = lf.write_users(os.path.join(cls.workdir, "users.passwd"), LOCAL)
        return cls.config_with({"mode": "master", "users": cls.users,
                                "master_user": MASTER[0], "master_password": MASTER[1]})

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.bad_master = cls.start_gateway(cls.config_with(
                {"mode": "master", "users": cls.users, "master_user": MASTER[0],
                 "master_password": "not-the-master-pw"}), "popgate-bad-master")
            oauth2 = {"token_url": cls.tokens.token_url, "client_id": CLIENT[0],
                      "client_secret": CLIENT[1], "timeout_s": TOKEN_TIMEOUT_S}
            cls.app_only = cls.start_gateway(cls.config_with(
                {"mode": "oauth2", "users": cls.users, "oauth2": oauth2}), "popgate-app-only")
            cls.refresh_file = os.path.join(cls.workdir, "refresh-tokens.json")
            with open(cls.refresh_file, "w") as f:
                json.dump({BOB[0]: "rt-bob-1", DAVE[0]: "rt-dave-1", CAROL[0]: "rt-carol-1"}, f)
            cls.per_user = cls.start_gateway(cls.config_with(
                {"mode": "oauth2", "users": cls.users,
                 "oauth2": dict(oauth2, grant="refresh_token",
                                refresh_tokens=cls.refresh_file)}), "popgate-refresh")
            cls.token_mode = cls.start_gateway(cls.config_with({"mode": "token"}),
                                               "popgate-token")
            cls.reload_users = lf.write_users(os.path.join(cls.workdir, "reload.passwd"),
                                              {ALICE[0]: ("before reload", "SHA512-CRYPT")})
            cls.reloading = cls.start_gateway(cls.config_with(
                {"mode": "master", "users": cls.reload_users, "master_user": MASTER[0],
                 "master_password": MASTER[1]}), "popgate-reload")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if getattr(cls, "tokens", None):
            for token in list(cls.tokens.tokens):
                pf.add_secret(token)
            cls.tokens.stop()

    def login_ok(self, gateway, user, password):
        conn = pf.login_retrying_in_use(gateway.port, user, password)
        self.addCleanup(conn.close)
        self.assertEqual(pf.unstuff(conn.cmd_multi("RETR 1")), MESSAGE)
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))

    def login_reply(self, gateway, user, password):
        with pf.RawPop3(gateway.port) as conn:
            return conn.login(user, password)

    # --- master ------------------------------------------------------------------------

    def test_master_checks_the_local_password_then_logs_in_as_master(self):
        self.login_ok(self.gateway, ALICE[0], local(ALICE[0]))
        self.assertRegex(self.sandbox.log_text(), r"master")  # Dovecot saw the master passdb
        reply = self.login_reply(self.gateway, *ALICE)  # the store's password is not popgate's
        self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)

    def test_master_each_hash_scheme(self):
        for user in (BOB[0], DAVE[0], CAROL[0]):
            self.login_ok(self.gateway, user, local(user))

    def test_master_with_a_wrong_master_password_is_temporary(self):
        reply = self.login_reply(self.bad_master, ALICE[0], local(ALICE[0]))
        self.assertTrue(reply.startswith(b"-ERR [SYS/TEMP]"), reply)
        reply = self.login_reply(self.bad_master, ALICE[0], "wrong")
        self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)

    def test_apop_with_poplib(self):
        pf.wait_until_free(self.port, CAROL[0], local(CAROL[0]))
        client = poplib.POP3(pf.HOST, self.port, timeout=30)
        self.addCleanup(client.close)
        client.apop(CAROL[0], local(CAROL[0]))
        self.assertEqual(client.stat()[0], 1)
        client.quit()
        with self.assertRaises(poplib.error_proto):
            other = poplib.POP3(pf.HOST, self.port, timeout=30)
            self.addCleanup(other.close)
            other.apop(ALICE[0], local(ALICE[0]))  # a hash, no plaintext: APOP cannot work

    def test_cram_md5_plain_and_login_with_curl(self):
        for method in ("AUTH=CRAM-MD5", "AUTH=PLAIN", "AUTH=LOGIN"):
            user = CAROL[0]
            pf.wait_until_free(self.port, user, local(user))
            rc, out, err = lf.curl(self.port, "1", user, local(user), method)
            self.assertEqual(rc, 0, f"curl {method}: {err!r}")
            self.assertEqual(out, pf.pop3_form(MESSAGE), method)

    def test_mpop_each_password_mechanism(self):
        for auth in ("cram-md5", "plain", "login", "user"):
            pf.wait_until_free(self.port, CAROL[0], local(CAROL[0]))
            rc, delivered, err = lf.mpop(self.port, CAROL[0], local(CAROL[0]), auth,
                                         self.tmpdir(f"mpop-master-{auth}"))
            self.assertEqual((rc, delivered), (0, 1), f"mpop --auth={auth}: {err!r}")

    def test_fetchmail_apop_and_cram_md5(self):
        for how in ("protocol APOP", "protocol pop3 auth cram-md5"):
            pf.wait_until_free(self.port, CAROL[0], local(CAROL[0]))
            rc, out, err = lf.fetchmail(self.port, CAROL[0], local(CAROL[0]), how,
                                        self.tmpdir(f"fetchmail-{len(how)}"))
            self.assertEqual(rc, 0, f"fetchmail {how}: {out!r} {err!r}")
            self.assertIn(b"1 message", out)

    def test_sighup_reloads_the_users_and_keeps_them_on_a_bad_file(self):
        self.login_ok(self.reloading, ALICE[0], "before reload")
        lf.write_users(self.reload_users, {ALICE[0]: ("after reload", "SHA512-CRYPT")})
        self.reloading.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while not self.login_reply(self.reloading, ALICE[0], "after reload").startswith(b"+OK"):
            self.assertLess(time.monotonic(), deadline, "SIGHUP did not reload the users")
            time.sleep(0.1)
        with open(self.reload_users, "a") as f:
            f.write("broken line without a password\n")
        self.reloading.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)  # nothing to wait for: the old table stays
        self.login_ok(self.reloading, ALICE[0], "after reload")

    # --- oauth2 ------------------------------------------------------------------------

    def test_oauth2_app_only_token_is_fetched_once(self):
        before = self.tokens.requests["client_credentials"]
        self.login_ok(self.app_only, ALICE[0], local(ALICE[0]))
        self.login_ok(self.app_only, ALICE[0], local(ALICE[0]))
        self.assertLessEqual(self.tokens.requests["client_credentials"] - before, 1)
        reply = self.login_reply(self.app_only, ALICE[0], "wrong")
        self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)

    def test_oauth2_a_revoked_token_gives_temporary_then_a_new_one(self):
        self.login_ok(self.app_only, ALICE[0], local(ALICE[0]))
        for token, entry in list(self.tokens.tokens.items()):
            if entry["user"] is None:
                self.tokens.revoke(token)
        reply = self.login_reply(self.app_only, ALICE[0], local(ALICE[0]))
        self.assertTrue(reply.startswith(b"-ERR [SYS/TEMP]"), reply)
        self.login_ok(self.app_only, ALICE[0], local(ALICE[0]))  # the refused token was dropped

    def test_oauth2_refresh_token_rotation_is_written_back(self):
        self.login_ok(self.per_user, DAVE[0], local(DAVE[0]))
        with open(self.refresh_file) as f:
            stored = json.load(f)
        self.assertNotEqual(stored[DAVE[0]], "rt-dave-1")
        self.assertEqual(stored[DAVE[0]], self.tokens.refresh_token_for(DAVE[0]))
        self.assertEqual(oct(os.stat(self.refresh_file).st_mode & 0o777), "0o600")
        pf.add_secret(stored[DAVE[0]])

    def test_oauth2_failing_or_hanging_token_endpoint_is_temporary(self):
        self.tokens.fail_next(1, "500")
        reply = self.login_reply(self.per_user, BOB[0], local(BOB[0]))
        self.assertTrue(reply.startswith(b"-ERR [SYS/TEMP]"), reply)
        self.tokens.hang_next(1)
        self.addCleanup(self.tokens.release)
        start = time.monotonic()
        reply = self.login_reply(self.per_user, CAROL[0], local(CAROL[0]))
        self.assertTrue(reply.startswith(b"-ERR [SYS/TEMP]"), reply)
        self.assertGreaterEqual(time.monotonic() - start, TOKEN_TIMEOUT_S * 0.99)
        self.tokens.release()
        deadline = time.monotonic() + 30  # the failure is remembered for a few seconds
        while True:
            reply = self.login_reply(self.per_user, BOB[0], local(BOB[0]))
            if reply.startswith(b"+OK") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertTrue(reply.startswith(b"+OK"), reply)

    # --- token -------------------------------------------------------------------------

    def test_token_mode_with_curl_and_mpop(self):
        token = self.tokens.issue(ALICE[0])
        pf.add_secret(token)
        for method in ("AUTH=XOAUTH2", "AUTH=OAUTHBEARER"):
            pf.wait_until_free(self.gateway.port, ALICE[0], local(ALICE[0]))
            rc, out, err = lf.curl(self.token_mode.port, "1", ALICE[0], None, method, bearer=token)
            self.assertEqual(rc, 0, f"curl {method}: {err!r}")
            self.assertEqual(out, pf.pop3_form(MESSAGE), method)
        for auth in ("xoauth2", "oauthbearer"):
            pf.wait_until_free(self.gateway.port, ALICE[0], local(ALICE[0]))
            rc, delivered, err = lf.mpop(self.token_mode.port, ALICE[0], token, auth,
                                         self.tmpdir(f"mpop-token-{auth}"))
            self.assertEqual((rc, delivered), (0, 1), f"mpop --auth={auth}: {err!r}")

    def test_token_mode_refused_token_gets_the_error_continuation(self):
        token = self.tokens.issue(ALICE[0])
        pf.add_secret(token)
        self.tokens.revoke(token)
        message = base64.b64encode(f"user={ALICE[0]}\x01auth=Bearer {token}\x01\x01".encode())
        pf.add_secret(message.decode())
        with pf.RawPop3(self.token_mode.port) as conn:
            challenge = conn.cmd(b"AUTH XOAUTH2 " + message)
            self.assertTrue(challenge.startswith(b"+ "), challenge)
            self.assertEqual(json.loads(base64.b64decode(challenge[2:]))["status"], "401")
            self.assertTrue(conn.cmd("").startswith(b"-ERR [AUTH]"))
            reply = conn.login(*ALICE)  # a password cannot be used with this backend
            self.assertTrue(reply.startswith(b"-ERR"), reply)
