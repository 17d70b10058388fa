"""TLS additions to popgate_fixture: certificates per test class, TLS-aware raw POP3 clients,
and config blocks for popgate's TLS keys.

- TlsGatewayTestCase: like GatewayTestCase, but cls.certs (tls_certs.server_set) is made
  before Dovecot starts; set `upstream_tls = True` to give the sandbox Dovecot the server
  certificate (STARTTLS on its IMAP port, IMAPS on sandbox.imaps_port).
- client_context(cafile): a verifying client context (chain and host name).
- TlsRawPop3: RawPop3 over implicit TLS; stls(conn, ctx, name): upgrade a RawPop3 in place.
"""

import os
import socket
import ssl
import time

import popgate_fixture as pf
import tls_certs

BEGIN_TLS = b"+OK Begin TLS negotiation.\r\n"


def client_context(cafile, verify_name=True):
    """Trusts only `cafile`. verify_name=False still verifies the chain (so getpeercert()
    returns the certificate) but accepts any name (to see which certificate a name gets)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    if not verify_name:
        ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class TlsRawPop3(pf.RawPop3):
    """RawPop3 over implicit TLS (POP3S): the handshake comes before the greeting."""

    def __init__(self, port, ctx, server_hostname="localhost", host=pf.HOST,
                 timeout=pf.IO_TIMEOUT_S, source=None):
        plain = socket.create_connection((host, port), timeout=timeout,
                                         source_address=(source, 0) if source else None)
        try:
            self.sock = ctx.wrap_socket(plain, server_hostname=server_hostname)
        except BaseException:
            plain.close()
            raise
        self.buf = b""
        self.greeting = self.read_line()


def stls(conn, ctx, server_hostname="localhost"):
    """STLS on a RawPop3 and the handshake on the same socket; the conn speaks TLS after."""
    reply = conn.cmd("STLS")
    if reply != BEGIN_TLS:
        raise AssertionError(f"STLS: {reply!r}")
    if conn.buf:
        raise AssertionError(f"plain-text bytes after STLS's +OK: {conn.buf!r}")
    conn.sock = ctx.wrap_socket(conn.sock, server_hostname=server_hostname)
    return conn


def peer_subject_cn(tls_sock):
    """The common name of the certificate the server presented (verified chain required)."""
    cert = tls_sock.getpeercert()
    return dict(item[0] for item in cert["subject"])["commonName"]


def peer_serial(tls_sock):
    return int(tls_sock.getpeercert()["serialNumber"], 16)


def tls_block(*leaves_and_names, **options):
    """popgate's top-level tls: block. Arguments: (leaf, [server names]) pairs, first = default."""
    block = {"certificates": [{"cert": leaf.cert, "key": leaf.key, "server_names": list(names)}
                              for leaf, names in leaves_and_names]}
    block.update(options)
    return block


def wait_for_log_count(gateway, text, count, timeout_s=30):
    """True once popgate's log contains `text` at least `count` times (e.g. SIGHUP lines)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if gateway.log_text().count(text) >= count:
            return True
        time.sleep(0.05)
    return False


class TlsGatewayTestCase(pf.GatewayTestCase):
    upstream_tls = False
    certs = None

    @classmethod
    def sandbox_options(cls):
        cls.certs = tls_certs.server_set(os.path.join(cls.workdir, "certs"))
        if not cls.upstream_tls:
            return {}
        server = cls.certs["server"]
        return {"tls": (server.cert, server.key)}

    @property
    def ca(self):
        return self.certs["ca"].cert
