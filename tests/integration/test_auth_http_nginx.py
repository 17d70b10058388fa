"""A real nginx mail proxy (Debian's nginx with libnginx-mod-mail) in front of the Dovecot sandbox,
asking auth_http_service.py where each POP3 user lives. This pins the service to what nginx
really sends and accepts, so popgate's routing.lookup can be tested against the same service
and shown to be a drop-in. No popgate here.

nginx runs as the current user from a config in the test's temp dir (`daemon off;
master_process off;`, pid, error log and temp paths there), with `pop3_auth plain apop
cram-md5` so its greeting carries an APOP timestamp. Skipped only when nginx or its mail module
is not installed.
"""

import base64
import hashlib
import hmac
import os
import poplib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import dovecot_sandbox  # noqa: E402  (path set just above)
from auth_http_service import REFUSAL_TEXT, Account, AuthHttpService  # noqa: E402
from portwait import wait_for_port  # noqa: E402

NGINX = "/usr/sbin/nginx"
MAIL_MODULE = "/usr/lib/nginx/modules/ngx_mail_module.so"
HOST = dovecot_sandbox.HOST

NGINX_CONF = """\
load_module {module};
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{
    worker_connections 64;
}}
mail {{
    auth_http 127.0.0.1:{auth_port}/auth;
    auth_http_timeout 2s;
    server {{
        listen {host}:{port};
        protocol pop3;
        pop3_auth plain apop cram-md5;
    }}
}}
"""

MESSAGE = (b"From: Sender <sender@example.net>\r\nTo: bob@example.org\r\n"
           b"Subject: through nginx\r\nMessage-ID: <nginx-1@popgate.test>\r\n\r\n"
           b"Routed by an auth_http service.\r\n.dot line\r\n")


class NginxAuthHttpTest(unittest.TestCase):
    workdir = sandbox = service = nginx = None

    @classmethod
    def setUpClass(cls):
        if not (os.access(NGINX, os.X_OK) and os.path.exists(MAIL_MODULE)):
            raise unittest.SkipTest("nginx or libnginx-mod-mail is not installed")
        cls.workdir = tempfile.mkdtemp(prefix=f"popgate-{cls.__name__}-")
        os.chmod(cls.workdir, 0o755)  # Dovecot's unprivileged processes work below it
        try:
            cls.sandbox = dovecot_sandbox.Sandbox(os.path.join(cls.workdir, "dovecot")).start()
            for user, password in dovecot_sandbox.USERS.items():
                cls.sandbox.clear(user)
                cls.sandbox.seed(user, password, [MESSAGE])
            accounts = {user: Account(password, HOST, cls.sandbox.pop3_port)
                        for user, password in dovecot_sandbox.USERS.items()}
            # A login name the service maps to another upstream user (Auth-User / Auth-Pass).
            alice, alice_pw = dovecot_sandbox.ALICE
            accounts["alias"] = Account("alias pw", HOST, cls.sandbox.pop3_port, alice, alice_pw)
            cls.service = AuthHttpService(accounts).start()
            cls.start_nginx()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start_nginx(cls):
        directory = os.path.join(cls.workdir, "nginx")
        os.makedirs(directory, exist_ok=True)
        for _ in range(5):  # a free port can be taken before nginx binds it
            cls.port = dovecot_sandbox.free_port()
            conf = os.path.join(directory, "nginx.conf")
            with open(conf, "w", encoding="utf-8") as f:
                f.write(NGINX_CONF.format(module=MAIL_MODULE, dir=directory, host=HOST,
                                          port=cls.port, auth_port=cls.service.port))
            # -e: the error log before the config is read (else /var/log/nginx/error.log).
            cls.nginx = subprocess.Popen(
                [NGINX, "-p", directory, "-c", conf, "-e", os.path.join(directory, "error.log")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                start_new_session=True)
            if wait_for_port(cls.port, 30, host=HOST, greeting=b"+OK", proc=cls.nginx):
                return
            cls.stop_nginx()
        raise RuntimeError("nginx did not start: " + cls.nginx_log())

    @classmethod
    def stop_nginx(cls):
        proc, cls.nginx = cls.nginx, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)  # graceful stop of a master_process-off nginx
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stderr.close()

    @classmethod
    def nginx_log(cls):
        try:
            with open(os.path.join(cls.workdir, "nginx", "error.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    @classmethod
    def tearDownClass(cls):
        cls.stop_nginx()
        if cls.service is not None:
            cls.service.stop()
        if cls.sandbox is not None:
            cls.sandbox.stop()
        if cls.workdir and os.environ.get("POPGATE_KEEP_TMP") != "1":
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def setUp(self):
        self.service.hang = False
        self.service.fail_status = None
        self.service.requests.clear()

    def pop(self):
        client = poplib.POP3(HOST, self.port, timeout=30)
        self.addCleanup(client.close)
        return client

    def quit(self, client):
        self.assertTrue(client.quit().startswith(b"+OK"))

    def assert_message(self, client):
        lines = client.retr(1)[1]
        # poplib strips the dot stuffing and the CRLFs: compare line by line.
        self.assertEqual(lines, MESSAGE.rstrip(b"\r\n").split(b"\r\n"))

    # --- the tests ------------------------------------------------------------------------

    def test_user_pass_with_spaces_retrieves_the_message(self):
        user, password = dovecot_sandbox.BOB  # spaces, quotes, a backslash
        client = self.pop()
        client.user(user)
        self.assertTrue(client.pass_(password).startswith(b"+OK"))
        self.assert_message(client)
        self.quit(client)
        request = self.service.requests[0]
        headers = request["headers"]
        self.assertEqual(request["request_version"], "HTTP/1.0")
        self.assertEqual(request["path"], "/auth")
        self.assertEqual(headers["Host"], "127.0.0.1")  # nginx leaves the port out
        self.assertEqual(headers["Auth-Method"], "plain")
        self.assertEqual(headers["Auth-Protocol"], "pop3")
        self.assertEqual(headers["Auth-Login-Attempt"], "1")
        self.assertEqual(headers["Client-IP"], "127.0.0.1")
        self.assertNotIn("Client-Host", headers)  # nginx resolves clients for SMTP only
        self.assertNotIn("Auth-Salt", headers)
        # Spaces (and only spaces, '%' and control bytes) escaped; quotes and '\' as they are.
        self.assertEqual(request["raw_pass"], password.replace(" ", "%20").encode())
        self.assertEqual(request["pass"], password)
        self.assertEqual(request["user"], user)

    def test_eight_bit_password_goes_unescaped(self):
        user, password = dovecot_sandbox.DAVE
        client = self.pop()
        client.user(user)
        self.assertTrue(client.pass_(password).startswith(b"+OK"))
        self.assert_message(client)
        self.quit(client)
        self.assertEqual(self.service.requests[0]["raw_pass"], password.encode("utf-8"))

    def test_wrong_password_is_refused_with_the_service_text_after_auth_wait(self):
        user, password = dovecot_sandbox.ALICE
        client = self.pop()
        client.user(user)
        started = time.monotonic()
        with self.assertRaises(poplib.error_proto) as refused:
            client.pass_("wrong 100%")
        self.assertEqual(refused.exception.args[0], b"-ERR " + REFUSAL_TEXT.encode())
        self.assertGreaterEqual(time.monotonic() - started, 0.9)  # Auth-Wait: 1
        first = self.service.requests[0]
        self.assertEqual(first["raw_pass"], b"wrong%20100%25")
        # With Auth-Wait the session stays: the next try is attempt 2, and it gets in.
        client.user(user)
        self.assertTrue(client.pass_(password).startswith(b"+OK"))
        self.assertEqual(self.service.requests[1]["headers"]["Auth-Login-Attempt"], "2")
        self.quit(client)

    def test_refusal_without_auth_wait_closes_the_session(self):
        self.service.wait_s = None
        self.addCleanup(setattr, self.service, "wait_s", 1)
        client = self.pop()
        client.user("alice")
        with self.assertRaises(poplib.error_proto) as refused:
            client.pass_("wrong")
        self.assertEqual(refused.exception.args[0], b"-ERR " + REFUSAL_TEXT.encode())
        with self.assertRaises((EOFError, OSError, poplib.error_proto)):
            client.noop()

    def test_apop_sends_salt_and_digest_and_logs_in_with_auth_pass(self):
        user, password = dovecot_sandbox.ALICE
        client = self.pop()
        timestamp = re.search(rb"<[^>]+>", client.getwelcome()).group(0)
        self.assertTrue(client.apop(user, password).startswith(b"+OK"))
        self.assert_message(client)
        self.quit(client)
        request = self.service.requests[0]
        self.assertEqual(request["method"], "apop")
        self.assertEqual(request["salt"].encode(), timestamp)
        self.assertEqual(request["pass"],
                         hashlib.md5(timestamp + password.encode()).hexdigest())

    def test_cram_md5_sends_salt_and_digest(self):
        user, password = dovecot_sandbox.CAROL
        client = self.pop()
        challenge = client._shortcmd("AUTH CRAM-MD5")
        self.assertTrue(challenge.startswith(b"+ "))
        salt = base64.b64decode(challenge[2:])
        digest = hmac.new(password.encode(), salt, hashlib.md5).hexdigest()
        answer = base64.b64encode(f"{user} {digest}".encode()).decode()
        self.assertTrue(client._shortcmd(answer).startswith(b"+OK"))
        self.assert_message(client)
        self.quit(client)
        request = self.service.requests[0]
        self.assertEqual(request["method"], "cram-md5")
        self.assertEqual(request["user"], user)
        self.assertEqual(request["salt"].encode(), salt)
        self.assertEqual(request["pass"], digest)

    def test_auth_user_and_auth_pass_from_the_service_go_upstream(self):
        logins = self.sandbox.log_text().count("pop3-login: Info: Login: user=<alice>")
        client = self.pop()
        client.user("alias")
        self.assertTrue(client.pass_("alias pw").startswith(b"+OK"))
        self.assert_message(client)
        self.quit(client)
        # Dovecot saw alice log in (with her password), never a user "alias".
        log = self.sandbox.log_text()
        self.assertEqual(log.count("pop3-login: Info: Login: user=<alice>"), logins + 1)
        self.assertNotIn("user=<alias>", log)

    def test_service_answering_500_is_an_internal_error(self):
        self.service.fail_status = 500
        client = self.pop()
        client.user("alice")
        with self.assertRaises(poplib.error_proto) as failed:
            client.pass_(dovecot_sandbox.ALICE[1])
        self.assertIn(b"internal server error", failed.exception.args[0])

    def test_hanging_service_times_out(self):
        self.service.hang = True
        client = self.pop()
        client.user("alice")
        started = time.monotonic()
        with self.assertRaises(poplib.error_proto) as failed:
            client.pass_(dovecot_sandbox.ALICE[1])
        self.assertIn(b"internal server error", failed.exception.args[0])
        self.assertGreaterEqual(time.monotonic() - started, 1.5)  # auth_http_timeout 2s
        self.assertEqual(len(self.service.requests), 1)


if __name__ == "__main__":
    unittest.main()
