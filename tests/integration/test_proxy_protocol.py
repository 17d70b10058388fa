"""popgate behind a real HAProxy (Debian's haproxy 2.6) speaking the PROXY protocol.

HAProxy listens in TCP mode on free ports and forwards to popgate's `proxy_protocol` listeners:
one frontend with `send-proxy-v2`, one with `send-proxy` (v1), one that ends TLS itself and says
so with `send-proxy-v2-ssl`, and one that passes TLS through to an implicit-TLS listener. Clients
connect to HAProxy from other loopback addresses (127.0.0.5, ...), so the address HAProxy saw
differs from HAProxy's own (127.0.0.1), the only one in `proxy_protocol_from`. Checked: popgate
logs and limits the client's address, bytes a client sends before the greeting are not lost, a
direct connection from outside proxy_protocol_from or without a header gets no greeting, and
`auth_requires_tls` defaults to on behind a balancer, satisfied by TLS that the balancer ended.
"""

import os
import re
import socket
import ssl
import time

import popgate_fixture as pf
import tls_certs
from tls_fixture import TlsRawPop3, tls_block
from dovecot_sandbox import ALICE, BOB, free_port
from haproxy_fixture import HaProxy

BALANCER = "127.0.0.1"
PER_ADDRESS = 2
LOG_WAIT_S = 30


def frontends(specs):
    """HAProxy sections: one frontend and backend per (port, bind options, server options,
    popgate port) tuple."""
    lines = []
    for n, (port, bind, server, target) in enumerate(specs):
        lines += [f"frontend fe{n}", f"  bind {BALANCER}:{port} {bind}".rstrip(),
                  f"  default_backend be{n}", f"backend be{n}",
                  f"  server popgate {pf.HOST}:{target} {server}"]
    return lines


class ProxyProtocolTest(pf.GatewayTestCase):

    @classmethod
    def gateway_config(cls):
        cls.proxied_port, cls.tls_port, cls.pop3s_port = free_port(), free_port(), free_port()
        cls.certs = tls_certs.server_set(os.path.join(cls.workdir, "certs"))
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["tls"] = tls_block((cls.certs["server"], []))
        trusted = {"proxy_protocol": True, "proxy_protocol_from": [f"{BALANCER}/32", "::1"]}
        config["listeners"] += [
            # The balancer forwards plain POP3 from a trusted network: login allowed in clear.
            dict(name="proxied", address=pf.HOST, port=cls.proxied_port,
                 auth_requires_tls=False, **trusted),
            # The default behind a balancer: TLS required (here, ended by HAProxy).
            dict(name="tls_at_balancer", address=pf.HOST, port=cls.tls_port, **trusted),
            # TLS passed through the balancer: popgate's handshake comes after the header.
            dict(name="pop3s", address=pf.HOST, port=cls.pop3s_port, tls="implicit", **trusted),
        ]
        config["limits"] = {"max_connections_per_address": PER_ADDRESS,
                            "failed_logins": {"first_delay_ms": 0, "refuse_after": 0}}
        return config

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ca = cls.certs["ca"].cert
        bundle = os.path.join(cls.workdir, "haproxy.pem")
        with open(bundle, "w") as out:
            for path in (cls.certs["server"].cert, cls.certs["server"].key):
                with open(path) as f:
                    out.write(f.read())
        cls.v2_port, cls.v1_port, cls.ssl_port, cls.v2_to_tls_port, cls.passthrough_port = (
            free_port() for _ in range(5))
        specs = [
            (cls.v2_port, "", "send-proxy-v2", cls.proxied_port),
            (cls.v1_port, "", "send-proxy", cls.proxied_port),
            (cls.ssl_port, f"ssl crt {bundle}", "send-proxy-v2-ssl", cls.tls_port),
            (cls.v2_to_tls_port, "", "send-proxy-v2-ssl", cls.tls_port),
            (cls.passthrough_port, "", "send-proxy-v2", cls.pop3s_port),
        ]
        cls.haproxy = HaProxy(cls.workdir, frontends(specs), [spec[0] for spec in specs],
                              host=BALANCER)
        try:
            cls.haproxy.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "haproxy", None):
            cls.haproxy.stop()
        super().tearDownClass()

    def wait_for_log(self, pattern):
        deadline = time.monotonic() + LOG_WAIT_S
        while time.monotonic() < deadline:
            if re.search(pattern, self.gateway.log_text()):
                return
            time.sleep(0.05)
        self.fail(f"no log line matching {pattern!r}:\n{self.gateway.log_text()[-4000:]}")

    def through(self, port, source):
        conn = pf.RawPop3(port, host=BALANCER, source=source)
        self.addCleanup(conn.close)
        return conn

    def login_logs_the_client_address(self, port, source, tls=False):
        """tls: the client speaks TLS to HAProxy (ended there, or passed through to popgate)."""
        if tls:
            context = ssl.create_default_context(cafile=self.ca)
            conn = TlsRawPop3(port, context, host=BALANCER, source=source)
            self.addCleanup(conn.close)
        else:
            conn = self.through(port, source)
        self.assertTrue(conn.greeting.startswith(b"+OK"), conn.greeting)
        self.assertTrue(conn.login(*ALICE).startswith(b"+OK"))
        self.assertTrue(conn.cmd("STAT").startswith(b"+OK"))
        client_port = conn.sock.getsockname()[1]
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))
        # The address HAProxy saw, with the client's own port: not HAProxy's connection.
        self.wait_for_log(rf"{re.escape(source)}:{client_port}: login alice ok")

    def test_v2_login_is_logged_with_the_client_address(self):
        self.login_logs_the_client_address(self.v2_port, "127.0.0.5")

    def test_v1_login_is_logged_with_the_client_address(self):
        self.login_logs_the_client_address(self.v1_port, "127.0.0.6")

    def test_bytes_sent_before_the_greeting_are_kept(self):
        # Pipelined before the greeting: HAProxy sends them right behind its header.
        with socket.create_connection((BALANCER, self.v2_port), timeout=pf.IO_TIMEOUT_S,
                                      source_address=("127.0.0.10", 0)) as sock:
            sock.sendall(b"CAPA\r\nQUIT\r\n")
            data = b""
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        lines = data.split(b"\r\n")
        self.assertTrue(lines[0].startswith(b"+OK"), data)
        self.assertEqual(lines[1], b"+OK Capability list follows", data)
        self.assertEqual(lines[-3:], [b".", lines[-2], b""], data)
        self.assertTrue(lines[-2].startswith(b"+OK"), data)  # QUIT's

    def test_per_address_limit_counts_the_client_not_the_balancer(self):
        first = self.through(self.v2_port, "127.0.0.7")
        second = self.through(self.v1_port, "127.0.0.7")
        for conn in (first, second):
            self.assertTrue(conn.greeting.startswith(b"+OK"), conn.greeting)
        third = self.through(self.v2_port, "127.0.0.7")
        self.assertTrue(third.greeting.startswith(b"-ERR [SYS/TEMP] Too many connections"),
                        third.greeting)
        # Every connection comes from HAProxy's address, yet another client is let in.
        other = self.through(self.v2_port, "127.0.0.8")
        self.assertTrue(other.greeting.startswith(b"+OK"), other.greeting)

    def test_direct_connection_from_outside_proxy_protocol_from_gets_nothing(self):
        with socket.create_connection((pf.HOST, self.proxied_port), timeout=pf.IO_TIMEOUT_S,
                                      source_address=("127.0.0.9", 0)) as sock:
            self.assertEqual(sock.recv(4096), b"")
        self.wait_for_log(r"127\.0\.0\.9:\d+: refused on listener proxied: not in "
                          r"proxy_protocol_from")

    def test_trusted_source_without_a_header_gets_nothing(self):
        with socket.create_connection((pf.HOST, self.proxied_port),
                                      timeout=pf.IO_TIMEOUT_S) as sock:
            sock.sendall(b"USER alice\r\n")
            self.assertEqual(sock.recv(4096), b"")
        self.wait_for_log(r"closed on listener proxied: no PROXY protocol signature")

    def test_login_requires_tls_by_default_and_tls_at_the_balancer_counts(self):
        plain = self.through(self.v2_to_tls_port, "127.0.0.11")
        self.assertTrue(plain.greeting.startswith(b"+OK"), plain.greeting)
        self.assertEqual(plain.cmd(b"USER " + BOB[0].encode()),
                         b"-ERR Login requires TLS: use STLS first.\r\n")
        self.login_logs_the_client_address(self.ssl_port, "127.0.0.12", tls=True)

    def test_tls_passed_through_the_balancer_runs_after_the_header(self):
        self.login_logs_the_client_address(self.passthrough_port, "127.0.0.13", tls=True)
