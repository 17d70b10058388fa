"""The JMAP backend over https and through an HTTP proxy, against a real Cyrus IMAP 3.6.

- JmapHttpsTest: Cyrus serves JMAP over https only (cyrus_sandbox.Sandbox(tls=...)) with the
  test CA's certificate for localhost and 127.0.0.1. popgate with `ca_file:` the test CA (by IP
  SAN, and by DNS name), with the system CA bundle, with another CA, with `verify: false`;
  through a CONNECT proxy (http_proxy.py), through one that refuses CONNECT with 403, and
  through a proxy that is down. Every failure must be `-ERR [SYS/TEMP]` with the password never
  reaching Cyrus, and popgate's log must name the cause.
- JmapPlainProxyTest: plain-http JMAP through the proxy: absolute-form requests only.

The proxy connects to Cyrus from 127.0.0.2, so Cyrus's log (which names the peer address of
every request) tells proxied requests from direct ones.
"""

import os
import time
import unittest

import http_proxy
import popgate_fixture as pf
import tls_certs
from cyrus_fixture import CyrusGatewayTestCase, cs, jmap_config

ALICE, BOB = cs.ALICE, cs.BOB
TEMP_FAIL = b"-ERR [SYS/TEMP] Mail store unavailable, try again later.\r\n"
VERIFY_FAILED = "TLS certificate verification failed: "
PROXY_SOURCE = "127.0.0.2"


def wait_for(condition, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def assertSameBytes(test, what, want, got):
    """Equal bytes; the difference is described only on a mismatch (first_difference walks
    the bytes in Python: seconds for the 20 MB message)."""
    if want != got:
        test.fail(f"{what}: {pf.first_difference(want, got)}")


class CyrusLog:
    """The part of Cyrus's log written since construction (it arrives through syslog, a moment
    after the request it describes)."""

    def __init__(self, sandbox):
        self.sandbox, self.start = sandbox, len(sandbox.log_text())

    def new(self):
        return self.sandbox.log_text()[self.start:]

    def requests(self, user):
        """httpd's line per request authenticated as `user`:
        `[127.0.0.2] as "bob" with "popgate" via SESSIONID=<...>; "GET /jmap/ HTTP/1.1" ...
        => "HTTP/1.1 200 OK"` (`with` names the User-Agent; a direct request from 127.0.0.1
        reads `localhost [127.0.0.1] as ...`)."""
        return [line for line in self.new().splitlines()
                if f' as "{user}" ' in line and '=> "HTTP/' in line]

    def logins(self, user):
        """httpd's `login: [ADDR] USER Basic+TLS User logged in` lines (Basic without TLS)."""
        return [line for line in self.new().splitlines()
                if "User logged in" in line and f"] {user} Basic" in line]


class ProxyMixin:
    """Proxies started before the gateways (their ports go into configs), stopped last."""

    proxies = ()

    @classmethod
    def start_proxy(cls, **options):
        proxy = http_proxy.HttpProxy(**options)
        cls.proxies.append(proxy)
        return proxy.start()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        for proxy in cls.proxies:
            proxy.stop()

    def assertProxiedOnly(self, log, user, at_least=1):
        """Cyrus saw at least one request as `user`, and every one came through the proxy."""
        self.assertTrue(wait_for(lambda: len(log.requests(user)) >= at_least), log.new())
        for line in log.requests(user):
            self.assertIn(f"[{PROXY_SOURCE}]", line, "a request reached Cyrus directly")


class JmapHttpsTest(ProxyMixin, CyrusGatewayTestCase):

    @classmethod
    def make_sandbox(cls):
        cls.certs = tls_certs.server_set(os.path.join(cls.workdir, "certs"))
        server = cls.certs["server"]
        return cs.Sandbox(os.path.join(cls.workdir, "cyrus"), tls=(server.cert, server.key)).start()

    @classmethod
    def seed_mail(cls):
        cls.messages = cs.cyrus_messages()
        cls.sandbox.seed(*ALICE, cls.messages)
        # Bob's mailbox is read only through the CONNECT proxy: Cyrus's log lines for bob
        # are then that test's alone. The same corpus, 20 MB included, through the tunnel.
        cls.sandbox.seed(*BOB, cls.messages)

    @classmethod
    def gateway_config(cls):
        return jmap_config(cls.sandbox, cs.free_port(), ca_file=cls.certs["ca"].cert)

    @classmethod
    def setUpClass(cls):
        cls.proxies = []
        super().setUpClass()
        try:
            sb, ca, other = cls.sandbox, cls.certs["ca"].cert, cls.certs["other_ca"].cert
            assert sb.jmap_url.startswith("https://127.0.0.1:"), sb.jmap_url

            def gateway(name, **backend):
                return cls.start_gateway(jmap_config(sb, cs.free_port(), **backend), name)

            cls.proxy = cls.start_proxy(source_address=PROXY_SOURCE)
            cls.refusing = cls.start_proxy(refuse_connect=True)
            cls.by_name = gateway("by-name", ca_file=ca,
                                  url=sb.jmap_url.replace("127.0.0.1", "localhost"))
            cls.system_ca = gateway("system-ca")
            cls.wrong_ca = gateway("wrong-ca", ca_file=other)
            cls.no_verify = gateway("no-verify", verify=False)
            cls.no_verify_wrong_ca = gateway("no-verify-wrong-ca", verify=False, ca_file=other)
            cls.proxied = gateway("proxied", ca_file=ca, proxy=cls.proxy.url)
            cls.refused = gateway("refused", ca_file=ca, proxy=cls.refusing.url)
            cls.proxy_down = gateway("proxy-down", ca_file=ca,
                                     proxy=f"http://127.0.0.1:{cs.free_port()}")
        except BaseException:
            cls.tearDownClass()
            raise

    def assertMailboxServed(self, gateway, user=ALICE, messages=None):
        """STAT, LIST and RETR of every message through `gateway`: the seeded bytes."""
        messages = self.messages if messages is None else messages
        conn = self.gateway_session(*user, port=gateway.port)
        total = sum(len(m) for m in messages)
        self.assertEqual(conn.cmd("STAT"), b"+OK %d %d\r\n" % (len(messages), total))
        listing = b"".join(b"%d %d\r\n" % (n, len(m)) for n, m in enumerate(messages, 1))
        got = conn.cmd_multi("LIST")
        self.assertTrue(got.startswith(b"+OK"), got)
        self.assertEqual(pf.unstuff(got), listing)
        for n, raw in enumerate(messages, 1):
            self.assertEqual(conn.cmd(f"LIST {n}"), b"+OK %d %d\r\n" % (n, len(raw)))
            got = conn.cmd_multi(f"RETR {n}")
            self.assertTrue(got.startswith(b"+OK"), got[:200])
            assertSameBytes(self, f"RETR {n}", pf.pop3_form(raw), pf.unstuff(got))
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")

    def assertTempFailure(self, gateway, user=ALICE):
        """Login fails as temporary, the session stays in AUTHORIZATION, and the password never
        reached Cyrus. Returns popgate's log."""
        log = CyrusLog(self.sandbox)
        with pf.RawPop3(gateway.port) as conn:
            self.assertEqual(conn.login(*user), TEMP_FAIL)
            self.assertEqual(conn.cmd("NOOP"), b"-ERR Log in first.\r\n")
        self.assertEqual(log.logins(user[0]), [], "the password reached Cyrus")
        return gateway.log_text()

    # --- https, verified ------------------------------------------------------------------

    def test_https_with_test_ca_serves_the_seeded_bytes(self):
        log = CyrusLog(self.sandbox)
        self.assertMailboxServed(self.gateway)
        self.assertTrue(wait_for(lambda: log.logins(ALICE[0])), log.new())
        for line in log.logins(ALICE[0]):  # httpd logs a login over TLS as Basic+TLS
            self.assertIn(f"] {ALICE[0]} Basic+TLS User logged in", line)
        for line in log.requests(ALICE[0]):
            self.assertIn("popgate-cyrus/https[", line)
        self.assertNotIn(VERIFY_FAILED, self.gateway.log_text())

    def test_https_by_dns_name(self):
        """url https://localhost:PORT/jmap/: the name is checked against the DNS SAN."""
        self.assertMailboxServed(self.by_name)

    # --- verification failures --------------------------------------------------------------

    def test_system_ca_bundle_does_not_know_the_test_ca(self):
        text = self.assertTempFailure(self.system_ca)
        self.assertIn(f"login {ALICE[0]} failed: TLS with https://127.0.0.1:"
                      f"{self.sandbox.http_port}: " + VERIFY_FAILED, text)
        self.assertIn(VERIFY_FAILED + "unable to get local issuer certificate", text)

    def test_wrong_ca_is_temporary_failure(self):
        text = self.assertTempFailure(self.wrong_ca)
        self.assertIn(VERIFY_FAILED + "unable to get local issuer certificate", text)

    def test_verify_false_accepts_any_certificate(self):
        for gateway in (self.no_verify, self.no_verify_wrong_ca):
            with self.subTest(gateway=gateway.config_path):
                self.assertMailboxServed(gateway)
                self.assertNotIn(VERIFY_FAILED, gateway.log_text())

    # --- through a proxy ---------------------------------------------------------------------

    def test_connect_tunnel_through_proxy(self):
        log = CyrusLog(self.sandbox)
        before = self.proxy.snapshot()
        self.assertMailboxServed(self.proxied, BOB)
        connects, _, forwarded, _ = self.proxy.snapshot()
        self.assertGreaterEqual(connects - before[0], 1)
        self.assertEqual(forwarded, before[2], "plain requests to the proxy for an https URL")
        target = f"127.0.0.1:{self.sandbox.http_port}"
        self.assertEqual(set(self.proxy.targets_since(before)), {("CONNECT", target)})
        self.assertEqual(self.proxy.errors, [])
        self.assertProxiedOnly(log, BOB[0])
        self.assertTrue(all("Basic+TLS" in line for line in log.logins(BOB[0])), log.new())

    def test_proxy_refusing_connect_is_temporary_failure(self):
        refused = self.refusing.refused
        text = self.assertTempFailure(self.refused)
        self.assertEqual(self.refusing.refused, refused + 1)
        self.assertIn(f"proxy refused the tunnel to https://127.0.0.1:{self.sandbox.http_port}"
                      f" with status 403", text)

    def test_proxy_down_is_temporary_failure(self):
        text = self.assertTempFailure(self.proxy_down)
        self.assertIn("connection refused", text)


class JmapPlainProxyTest(ProxyMixin, CyrusGatewayTestCase):
    """Plain-http JMAP through the proxy: absolute-form requests, no CONNECT."""

    @classmethod
    def seed_mail(cls):
        cls.messages = cs.cyrus_messages()
        cls.sandbox.seed(*ALICE, cls.messages)

    @classmethod
    def setUpClass(cls):
        cls.proxies = []
        cls.proxy = cls.start_proxy(source_address=PROXY_SOURCE)
        super().setUpClass()

    @classmethod
    def gateway_config(cls):
        return jmap_config(cls.sandbox, cs.free_port(), proxy=cls.proxy.url)

    def test_absolute_form_requests_through_proxy(self):
        log = CyrusLog(self.sandbox)
        before = self.proxy.snapshot()
        conn = self.gateway_session(*ALICE)
        total = sum(len(m) for m in self.messages)
        self.assertEqual(conn.cmd("STAT"), b"+OK %d %d\r\n" % (len(self.messages), total))
        for n, raw in enumerate(self.messages, 1):
            got = conn.cmd_multi(f"RETR {n}")
            assertSameBytes(self, f"RETR {n}", pf.pop3_form(raw), pf.unstuff(got))
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")
        connects, _, forwarded, _ = self.proxy.snapshot()
        self.assertEqual(connects, before[0], "CONNECT for a plain http URL")
        # At least the session GET, the API POST(s) and one download per message.
        self.assertGreaterEqual(forwarded - before[2], len(self.messages) + 2)
        origin = f"http://127.0.0.1:{self.sandbox.http_port}/jmap/"
        targets = self.proxy.targets_since(before)
        self.assertEqual(len(targets), forwarded - before[2])
        for method, target in targets:
            self.assertIn(method, ("GET", "POST"))
            self.assertTrue(target.startswith(origin), target)
        self.assertIn(("GET", origin), targets)  # the session resource
        self.assertEqual(self.proxy.errors, [])
        self.assertProxiedOnly(log, ALICE[0], at_least=len(targets))


if __name__ == "__main__":
    unittest.main()
