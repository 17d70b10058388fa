"""TLS towards the IMAP server: IMAPS and STARTTLS against a sandbox Dovecot with the test
CA's certificate, verification failures, and no plain-text fallback.

- UpstreamTlsTest: Dovecot with ssl = yes. Gateways (each on its own plain loopback POP3 port)
  for IMAPS, STARTTLS, a wrong CA, a wrong server_name, and verify: false with a wrong CA.
  Every RETR through TLS must equal Dovecot's own POP3 byte for byte; Dovecot's log must show
  each upstream login as TLS.
- StartTlsRequiredTest: `tls: starttls` against servers that do not offer it (Dovecot with
  ssl = no, a scripted server) must fail as [SYS/TEMP] and send no LOGIN; plain-text
  responses injected behind the STARTTLS OK must be ignored.
"""

import os
import re
import socket
import ssl
import threading
import time
import unittest

import popgate_fixture as pf
import tls_fixture as tf
from dovecot_sandbox import ALICE, free_port, tricky_messages

TEMP_FAIL = b"-ERR [SYS/TEMP]"
VERIFY_FAILED = "TLS certificate verification failed: "


def wait_for(condition, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def backend_config(port, pop3_port=None, **backend):
    config = pf.base_config(port, pop3_port or free_port())
    config["backends"]["local"].update(backend)
    return config


class DovecotLog:
    """The part of Dovecot's log written since construction."""

    def __init__(self, sandbox):
        self.sandbox, self.start = sandbox, len(sandbox.log_text())

    def new(self):
        return self.sandbox.log_text()[self.start:]

    def logins(self, user):
        """imap-login 'Login:' lines for user (the gateway's upstream logins)."""
        return [line for line in self.new().splitlines()
                if "imap-login: Info: Login: " in line and f"user=<{user}>" in line]


class UpstreamTlsTest(tf.TlsGatewayTestCase):
    upstream_tls = True

    @classmethod
    def seed_mail(cls):
        cls.messages = tricky_messages()
        cls.sandbox.seed(*ALICE, cls.messages)

    @classmethod
    def gateway_config(cls):
        # IMAPS; server_name defaults to host, 127.0.0.1: checked as an IP SAN.
        return backend_config(cls.sandbox.imaps_port, tls="implicit", ca_file=cls.certs["ca"].cert)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            ca, other = cls.certs["ca"].cert, cls.certs["other_ca"].cert
            sb = cls.sandbox
            cls.starttls = cls.start_gateway(backend_config(
                sb.imap_port, tls="starttls", ca_file=ca, server_name="localhost"))
            cls.wrong_ca = cls.start_gateway(backend_config(
                sb.imaps_port, tls="implicit", ca_file=other))
            cls.wrong_name = cls.start_gateway(backend_config(
                sb.imaps_port, tls="implicit", ca_file=ca, server_name="imap.example.test"))
            cls.wrong_name_starttls = cls.start_gateway(backend_config(
                sb.imap_port, tls="starttls", ca_file=ca, server_name="imap.example.test"))
            cls.no_verify = cls.start_gateway(backend_config(
                sb.imaps_port, tls="implicit", ca_file=other, verify=False))
        except BaseException:
            cls.tearDownClass()
            raise

    def assertSameAsDovecot(self, gateway):
        """Every message through `gateway` equals Dovecot's own POP3 RETR, byte for byte."""
        gw = self.gateway_session(*ALICE, port=gateway.port)
        dc = self.connect_dovecot()
        self.assertTrue(dc.login(*ALICE).startswith(b"+OK"))
        self.assertEqual(gw.cmd("STAT"), dc.cmd("STAT"))
        for n in range(1, len(self.messages) + 1):
            want, got = dc.cmd_multi(f"RETR {n}"), gw.cmd_multi(f"RETR {n}")
            self.assertTrue(want == got, f"RETR {n}: {pf.first_difference(want, got)}")
            self.assertEqual(pf.unstuff(got), pf.pop3_form(self.messages[n - 1]))
        self.assertTrue(gw.cmd("QUIT").startswith(b"+OK"))
        self.assertTrue(dc.cmd("QUIT").startswith(b"+OK"))

    def assertLoginsOverTls(self, log, at_least=1):
        logins = log.logins(ALICE[0])
        self.assertGreaterEqual(len(logins), at_least, log.new())
        for line in logins:  # Dovecot's %c: "TLS" for IMAPS and after STARTTLS
            self.assertRegex(line, r", TLS, ", "upstream login without TLS")

    def failed_login(self, gateway):
        """A login through `gateway` that must fail as temporary; returns the new log part."""
        log = DovecotLog(self.sandbox)
        with pf.RawPop3(gateway.port) as conn:
            reply = conn.login(*ALICE)
            self.assertTrue(reply.startswith(TEMP_FAIL), reply)
            # The session stays usable in AUTHORIZATION: the password was never sent upstream.
            self.assertEqual(conn.cmd("NOOP"), b"-ERR Log in first.\r\n")
        self.assertEqual(log.logins(ALICE[0]), [], "the password reached Dovecot")
        return log

    def test_imaps_retr_equals_dovecot(self):
        log = DovecotLog(self.sandbox)
        self.assertSameAsDovecot(self.gateway)
        self.assertLoginsOverTls(log)

    def test_starttls_retr_equals_dovecot(self):
        log = DovecotLog(self.sandbox)
        self.assertSameAsDovecot(self.starttls)
        # The STARTTLS gateway talks to the plain IMAP port: TLS here means STARTTLS happened.
        self.assertLoginsOverTls(log)

    def test_wrong_ca_is_temporary_failure(self):
        self.failed_login(self.wrong_ca)
        self.assertIn(VERIFY_FAILED + "unable to get local issuer certificate",
                      self.wrong_ca.log_text())

    def test_wrong_server_name_is_temporary_failure(self):
        for gateway in (self.wrong_name, self.wrong_name_starttls):
            with self.subTest(gateway=gateway.config_path):
                self.failed_login(gateway)
                self.assertIn(VERIFY_FAILED, gateway.log_text())
                self.assertRegex(gateway.log_text(), VERIFY_FAILED + ".*[Hh]ostname mismatch")

    def test_verify_false_accepts_unknown_ca(self):
        log = DovecotLog(self.sandbox)
        self.assertSameAsDovecot(self.no_verify)
        self.assertLoginsOverTls(log)
        self.assertNotIn(VERIFY_FAILED, self.no_verify.log_text())


class FakeImap(threading.Thread):
    """A scripted IMAP server for one connection. Records (phase, line) for every command line
    it receives, phase "plain" or "tls". CAPABILITY lists `capabilities`; STARTTLS (offered
    only when tls_ctx is set) answers OK, sends `inject` in plain text in the same send(), then
    does the handshake; LOGIN fails with AUTHENTICATIONFAILED."""

    def __init__(self, capabilities, tls_ctx=None, inject=b""):
        super().__init__(daemon=True)
        self.capabilities, self.tls_ctx, self.inject = capabilities, tls_ctx, inject
        self.listener = socket.create_server((pf.HOST, 0))
        self.listener.settimeout(pf.IO_TIMEOUT_S)
        self.port = self.listener.getsockname()[1]
        self.received = []
        self.error = None

    def run(self):
        try:
            conn, _ = self.listener.accept()
            conn.settimeout(pf.IO_TIMEOUT_S)
            self.serve(conn)
        except Exception as e:  # reported by the test through self.error
            self.error = e
        finally:
            self.listener.close()

    def serve(self, conn):
        self.sock = conn
        try:
            self.converse()
        except (ssl.SSLEOFError, ConnectionError):
            pass  # popgate may drop a failed upstream without close_notify, replies unread
        finally:
            self.sock.close()

    def converse(self):
        conn, phase, buf = self.sock, "plain", b""
        conn.sendall(b"* OK fake IMAP server ready\r\n")
        while True:
            while b"\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            line, buf = buf.split(b"\r\n", 1)
            self.received.append((phase, line))
            tag, _, rest = line.partition(b" ")
            verb = rest.split(b" ", 1)[0].upper()
            if verb == b"CAPABILITY":
                conn.sendall(b"* CAPABILITY " + self.capabilities + b"\r\n" + tag + b" OK done\r\n")
            elif verb == b"STARTTLS" and self.tls_ctx and phase == "plain":
                conn.sendall(tag + b" OK Begin TLS negotiation now\r\n" + self.inject)
                conn = self.sock = self.tls_ctx.wrap_socket(conn, server_side=True)
                phase, buf = "tls", b""
            elif verb == b"LOGIN":
                conn.sendall(tag + b" NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
            elif verb == b"LOGOUT":
                conn.sendall(b"* BYE bye\r\n" + tag + b" OK done\r\n")
            else:
                conn.sendall(tag + b" BAD unexpected\r\n")


class StartTlsRequiredTest(tf.TlsGatewayTestCase):
    upstream_tls = False  # Dovecot with ssl = no: no STARTTLS in its capabilities

    @classmethod
    def seed_mail(cls):
        cls.sandbox.seed(*ALICE, tricky_messages()[:1])

    @classmethod
    def gateway_config(cls):
        return backend_config(cls.sandbox.imap_port, tls="starttls", ca_file=cls.certs["ca"].cert,
                              server_name="localhost")

    def fake_server(self, *args, **kwargs):
        fake = FakeImap(*args, **kwargs)
        fake.start()
        self.addCleanup(fake.join, pf.IO_TIMEOUT_S)
        gateway = self.start_gateway(backend_config(
            fake.port, tls="starttls", ca_file=self.ca, server_name="localhost",
            command_timeout_s=10))
        return fake, gateway

    def test_dovecot_without_starttls(self):
        log = DovecotLog(self.sandbox)
        with pf.RawPop3(self.port) as conn:
            reply = conn.login(*ALICE)
            self.assertTrue(reply.startswith(TEMP_FAIL), reply)
        self.assertIn("IMAP server does not offer STARTTLS", self.gateway.log_text())
        self.assertIsNone(re.search(r"user=<alice>|\(alice[,)]", log.new()),
                          f"Dovecot saw a login attempt for alice:\n{log.new()}")
        # popgate did connect (and left without authenticating): Dovecot logs that once the
        # connection is gone, which can be a moment after the -ERR.
        self.assertTrue(wait_for(lambda: re.search(r"imap-login: .*Disconnected.*no auth attempts",
                                                   log.new())), log.new())

    def test_nothing_but_capability_in_plain_text(self):
        fake, gateway = self.fake_server(b"IMAP4rev1 AUTH=PLAIN")
        with pf.RawPop3(gateway.port) as conn:
            reply = conn.login(*ALICE)
            self.assertTrue(reply.startswith(TEMP_FAIL), reply)
        fake.join(pf.IO_TIMEOUT_S)
        self.assertIsNone(fake.error)
        verbs = [line.split(b" ")[1].upper() for _, line in fake.received]
        self.assertTrue(verbs and set(verbs) <= {b"CAPABILITY", b"LOGOUT"}, fake.received)
        self.assertIn("IMAP server does not offer STARTTLS", gateway.log_text())

    def test_plain_text_injected_after_starttls_is_ignored(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server = self.certs["server"]
        ctx.load_cert_chain(server.cert, server.key)
        # A man in the middle appends plain-text responses to the STARTTLS OK (popgate's tags:
        # p1 CAPABILITY, p2 STARTTLS, then p3 CAPABILITY inside TLS). Were they read as the
        # answer to the CAPABILITY sent inside TLS, LOGINDISABLED would
        # stop the login with [SYS/PERM] instead of the real server's [AUTH] answer.
        injected = (b"* CAPABILITY IMAP4rev1 LOGINDISABLED\r\n"
                    b"p3 OK injected\r\np4 OK injected\r\n")
        fake, gateway = self.fake_server(b"IMAP4rev1 STARTTLS AUTH=PLAIN", ctx, injected)
        with pf.RawPop3(gateway.port) as conn:
            self.assertEqual(conn.login(*ALICE), b"-ERR [AUTH] Authentication failed.\r\n")
        fake.join(pf.IO_TIMEOUT_S)
        self.assertIsNone(fake.error)
        plain = [line.split(b" ", 1)[1] for phase, line in fake.received if phase == "plain"]
        self.assertEqual(plain, [b"CAPABILITY", b"STARTTLS"])
        logins = [line for phase, line in fake.received if b" LOGIN " in line]
        self.assertEqual(len(logins), 1, fake.received)
        self.assertIn(("tls", logins[0]), fake.received)


if __name__ == "__main__":
    unittest.main()
