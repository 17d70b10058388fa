"""TLS towards POP3 clients: STLS and POP3S with real clients, the STLS injection defence,
CAPA and login before/after TLS, SNI certificate choice (TLS versions: test_tls_versions.py).

One popgate with four listeners in front of a plain sandbox Dovecot:
  plain      127.0.0.1, no TLS (loopback: login allowed)  -- the harness's own port
  stls       tls: starttls, auth_requires_tls: true (explicit, as on a public address)
  pop3s      tls: implicit, auth_requires_tls: true (implicit TLS counts as TLS)
  stls_opt   tls: starttls, auth_requires_tls: false
Certificates: the test CA's `server` (localhost, 127.0.0.1; the default) and `sni`
(other.example.test).
"""

import os
import poplib
import re
import socket
import subprocess
import unittest

import popgate_fixture as pf
import test_clients as tc
import tls_fixture as tf
from dovecot_sandbox import ALICE, free_port, tricky_messages

CLIENT_TIMEOUT_S = pf.CLIENT_TIMEOUT_S
SNI_NAME = "other.example.test"


def stuffed(data):
    """Dot-stuffing as on the wire."""
    return re.sub(rb"(^|\r\n)\.", rb"\1..", data)


class TlsClientsTest(tf.TlsGatewayTestCase):

    @classmethod
    def seed_mail(cls):
        cls.messages = tricky_messages()
        cls.sandbox.seed(*ALICE, cls.messages)

    @classmethod
    def gateway_config(cls):
        cls.stls_port, cls.pop3s_port, cls.stls_opt_port = free_port(), free_port(), free_port()
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["tls"] = tf.tls_block((cls.certs["server"], ["localhost"]),
                                     (cls.certs["sni"], [SNI_NAME]))
        config["listeners"] += [
            {"name": "stls", "address": pf.HOST, "port": cls.stls_port, "tls": "starttls",
             "auth_requires_tls": True},
            {"name": "pop3s", "address": pf.HOST, "port": cls.pop3s_port, "tls": "implicit",
             "auth_requires_tls": True},
            {"name": "stls_opt", "address": pf.HOST, "port": cls.stls_opt_port,
             "tls": "starttls", "auth_requires_tls": False},
        ]
        return config

    # --- helpers ------------------------------------------------------------------------

    def ctx(self, verify_name=True):
        return tf.client_context(self.ca, verify_name)

    def tls_session(self, port=None, server_hostname="localhost", ctx=None):
        conn = tf.TlsRawPop3(port or self.pop3s_port, ctx or self.ctx(), server_hostname)
        self.addCleanup(conn.close)
        return conn

    def stls_session(self, port=None, server_hostname="localhost", ctx=None):
        conn = self.connect(port or self.stls_port)
        return tf.stls(conn, ctx or self.ctx(), server_hostname)

    def free(self):
        """The mailbox lock of the previous client is gone (checked over the plain port)."""
        pf.wait_until_free(self.port, *ALICE)

    # --- Python poplib ---------------------------------------------------------------------

    def poplib_download(self, pop):
        self.addCleanup(pop.close)
        pop.user(ALICE[0])
        pop.pass_(ALICE[1])
        count, _ = pop.stat()
        got = []
        for n in range(1, count + 1):
            _, lines, _ = pop.retr(n)
            got.append(b"".join(line + b"\r\n" for line in lines))
        pop.quit()
        self.assertMessages([pf.pop3_form(m) for m in self.messages], got, "poplib")

    def test_poplib_stls(self):
        self.addCleanup(setattr, poplib, "_MAXLINE", poplib._MAXLINE)
        poplib._MAXLINE = 1 << 20
        self.free()
        pop = poplib.POP3(pf.HOST, self.stls_port, timeout=pf.IO_TIMEOUT_S)
        self.assertIn("STLS", pop.capa())
        # poplib checks the name against pop.host: 127.0.0.1, the certificate's IP SAN.
        pop.stls(context=self.ctx())
        self.assertIn("USER", pop.capa())
        self.poplib_download(pop)

    def test_poplib_pop3_ssl(self):
        self.addCleanup(setattr, poplib, "_MAXLINE", poplib._MAXLINE)
        poplib._MAXLINE = 1 << 20
        self.free()
        pop = poplib.POP3_SSL(pf.HOST, self.pop3s_port, context=self.ctx(),
                              timeout=pf.IO_TIMEOUT_S)
        self.assertEqual(tf.peer_subject_cn(pop.sock), "localhost")
        self.poplib_download(pop)

    # --- curl ------------------------------------------------------------------------------

    def curl(self, scheme, port, path, extra=()):
        url = f"{scheme}://{ALICE[0]}:{ALICE[1]}@{pf.HOST}:{port}/{path}"
        rc, out, err = self.run_client(["curl", "-sS", "--max-time", str(CLIENT_TIMEOUT_S),
                                        "--cacert", self.ca, *extra, url])
        self.assertEqual(rc, 0, f"curl {url}: {err!r}")
        return out

    def curl_all(self, scheme, port, extra=()):
        self.free()
        listing = b"".join(b"%d %d\r\n" % (n, len(pf.stored_form(m)))
                           for n, m in enumerate(self.messages, 1))
        self.assertEqual(self.curl(scheme, port, "", extra), listing)
        got = [self.curl(scheme, port, str(n), extra) for n in range(1, len(self.messages) + 1)]
        self.assertMessages([pf.pop3_form(m) for m in self.messages], got, f"curl {scheme}")

    def test_curl_stls(self):
        # --ssl-reqd: STLS or fail (the stls listener refuses USER in plain text anyway).
        self.curl_all("pop3", self.stls_port, ["--ssl-reqd"])

    def test_curl_pop3s(self):
        self.curl_all("pop3s", self.pop3s_port)

    def test_curl_refuses_certificate_of_unknown_ca(self):
        # The chain really is checked against the test CA: another CA's bundle fails.
        self.free()
        url = f"pop3s://{ALICE[0]}:{ALICE[1]}@{pf.HOST}:{self.pop3s_port}/1"
        rc, _, err = self.run_client(["curl", "-sS", "--cacert", self.certs["other_ca"].cert, url])
        self.assertEqual(rc, 60, f"curl with the wrong CA: {err!r}")  # CURLE_PEER_FAILED_VERIFICATION

    # --- openssl s_client ------------------------------------------------------------------

    def s_client(self, port, extra):
        """USER, PASS, RETR 1, RETR 2, QUIT through `openssl s_client` (a separate process
        verifying chain and name); returns everything it printed after the TLS handshake."""
        self.free()
        script = (f"USER {ALICE[0]}\r\nPASS {ALICE[1]}\r\nRETR 1\r\nRETR 2\r\nQUIT\r\n").encode()
        rc, out, err = self.run_client(
            ["openssl", "s_client", "-connect", f"{pf.HOST}:{port}", "-CAfile", self.ca,
             "-verify_return_error", "-verify_hostname", "localhost", "-quiet", *extra], script)
        self.assertEqual(rc, 0, f"s_client: {out!r} {err!r}")
        self.assertIn(b"depth=0 CN = localhost\nverify return:1", err)
        retr = b"".join(  # message 2 has dot lines: stuffed on the wire
            b"+OK %d octets\r\n" % len(pf.stored_form(m)) + stuffed(pf.pop3_form(m)) + b".\r\n"
            for m in self.messages[:2])
        return out, b"+OK\r\n+OK Logged in.\r\n" + retr + b"+OK Logging out.\r\n"

    def test_openssl_s_client_starttls(self):
        # s_client reads the greeting and does STLS itself; -quiet shows what follows.
        out, expected = self.s_client(self.stls_port, ["-starttls", "pop3"])
        self.assertEqual(out, expected)

    def test_openssl_s_client_implicit(self):
        out, expected = self.s_client(self.pop3s_port, [])
        self.assertEqual(out, b"+OK POP3 gateway ready.\r\n" + expected)

    # --- fetchmail -------------------------------------------------------------------------

    def fetchmail(self, name, port, tls_options):
        self.free()
        outdir = self.tmpdir(f"fetchmail-{name}")
        deliver = os.path.join(self.workdir, "deliver.py")
        with open(deliver, "w") as f:
            f.write("import os, sys\nd = sys.argv[1]\n"
                    "with open(os.path.join(d, '%06d' % (len(os.listdir(d)) + 1)), 'wb') as f:\n"
                    "    f.write(sys.stdin.buffer.read())\n")
        rc = (f"set invisible\n"
              f"poll {pf.HOST} service {port} protocol pop3 uidl timeout 120\n"
              f'  user "{ALICE[0]}" there with password "{ALICE[1]}" is "root" here\n'
              f"  keep no rewrite {tls_options}\n"
              f'  mda "/usr/bin/python3 {deliver} {outdir}"\n')
        home = self.tmpdir(f"fetchmail-home-{name}")
        env = dict(os.environ, HOME=home, FETCHMAILHOME=home)
        code, out, err = self.run_client(
            ["fetchmail", "-f", "-", "--nodetach", "--nosyslog", "-v",
             "-i", os.path.join(home, "ids"), "--pidfile", os.path.join(home, "fetchmail.pid")],
            rc.encode(), env)
        self.assertEqual(code, 0, f"fetchmail: {out[-3000:]!r} {err[-3000:]!r}")
        got = [tc.fetchmail_normalise(m)
               for m in tc.read_files(outdir, sorted(os.listdir(outdir)))]
        self.assertMessages([tc.fetchmail_form(m) for m in self.messages], got, "fetchmail")
        return out + err

    def test_fetchmail_stls(self):
        # fetchmail does not match IP SANs: it checks sslcommonname against the certificate.
        log = self.fetchmail("stls", self.stls_port,
                             f'sslproto tls1.2+ sslcertck sslcertfile "{self.ca}" '
                             f"sslcommonname localhost")
        self.assertIn(b"POP3> STLS\nfetchmail: POP3< +OK Begin TLS negotiation.", log)
        self.assertIn(b"upgrade to TLS succeeded", log)
        self.assertIn(b"Subject CommonName: localhost", log)

    def test_fetchmail_implicit(self):
        capath = self.tmpdir("fetchmail-capath")
        os.symlink(self.ca, os.path.join(capath, "ca.pem"))
        subprocess.run(["openssl", "rehash", capath], check=True, capture_output=True)
        log = self.fetchmail("implicit", self.pop3s_port,
                             f'ssl sslcertck sslcertpath "{capath}" sslcommonname localhost')
        self.assertNotIn(b"> STLS", log)
        self.assertIn(b"Subject CommonName: localhost", log)
        self.assertIn(b"SSL/TLS: using protocol TLSv1.3", log)

    # --- mpop ------------------------------------------------------------------------------

    def mpop(self, name, port, tls_options):
        self.free()
        maildir = self.tmpdir(f"mpop-{name}")
        for sub in ("cur", "new", "tmp"):
            os.mkdir(os.path.join(maildir, sub))
        rc, out, err = self.run_client([
            "mpop", "-q", "-C", "/dev/null", f"--host={pf.HOST}", f"--port={port}",
            f"--user={ALICE[0]}", f"--passwordeval=echo '{ALICE[1]}'", "--tls=on",
            f"--tls-trust-file={self.ca}", *tls_options, "--auth=user", "--keep=on",
            f"--uidls-file={os.path.join(self.workdir, 'mpop-uidls-' + name)}",
            f"--delivery=maildir,{maildir}", "--received-header=off"])
        self.assertEqual(rc, 0, f"mpop: {out!r} {err!r}")
        new = os.path.join(maildir, "new")
        names = sorted(os.listdir(new), key=lambda f: int(re.search(r"Q(\d+)", f).group(1)))
        self.assertMessages([tc.lf_form(m) for m in self.messages], tc.read_files(new, names),
                            "mpop")

    def test_mpop_stls(self):
        self.mpop("stls", self.stls_port, ["--tls-starttls=on"])

    def test_mpop_implicit(self):
        self.mpop("implicit", self.pop3s_port, ["--tls-starttls=off"])

    # --- STLS injection (CVE-2011-0411) ------------------------------------------------------

    def injected(self, after_stls):
        """STLS plus `after_stls` in one send(); returns the connection, upgraded to TLS."""
        conn = self.connect(self.stls_port)
        conn.sock.sendall(b"STLS\r\n" + after_stls)
        self.assertEqual(conn.read_line(), tf.BEGIN_TLS)
        # Nothing may follow in plain text: popgate now waits for our ClientHello.
        self.assertEqual(conn.buf, b"")
        conn.sock.settimeout(0.5)
        try:
            extra = conn.sock.recv(4096)
        except socket.timeout:
            extra = None
        self.assertIsNone(extra, f"plain text after STLS's +OK: {extra!r}")
        conn.sock.settimeout(pf.IO_TIMEOUT_S)
        conn.sock = self.ctx().wrap_socket(conn.sock, server_hostname="localhost")
        return conn

    def test_command_pipelined_after_stls_is_discarded(self):
        conn = self.injected(b"CAPA\r\n")
        # Had CAPA run (in plain text or inside TLS), its +OK would be the first line here.
        self.assertEqual(conn.cmd("NOOP"), b"-ERR Log in first.\r\n")

    def test_user_pipelined_after_stls_is_discarded(self):
        conn = self.injected(b"USER x\r\n")
        self.assertEqual(conn.cmd("PASS y"), b"-ERR Send USER first.\r\n")
        self.assertTrue(conn.login(*ALICE).startswith(b"+OK"))
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))

    def test_non_tls_after_stls_closes(self):
        conn = self.connect(self.stls_port)
        self.assertEqual(conn.cmd("STLS"), tf.BEGIN_TLS)
        conn.send("USER alice")  # plain text where a ClientHello belongs
        self.assertTrue(conn.wait_closed(pf.IO_TIMEOUT_S), "popgate kept a failed handshake open")
        self.assertTrue(conn.buf[:1] in (b"", b"\x15"), conn.buf)  # at most a TLS alert
        self.assertNotIn(b"+OK", conn.buf)
        self.assertTrue(tf.wait_for_log_count(self.gateway, "STLS handshake failed", 1))

    def test_pop3s_port_speaks_no_plain_text(self):
        with socket.create_connection((pf.HOST, self.pop3s_port), timeout=pf.IO_TIMEOUT_S) as sock:
            sock.sendall(b"CAPA\r\n")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        self.assertTrue(data[:1] in (b"", b"\x15"), data)  # at most a TLS alert record
        self.assertNotIn(b"+OK", data)

    # --- CAPA and login around STLS ------------------------------------------------------------

    def capa(self, conn):
        reply = conn.cmd_multi("CAPA")
        self.assertTrue(reply.startswith(b"+OK Capability list follows\r\n"), reply)
        return reply.split(b"\r\n")[1:-2]

    def test_login_requires_stls(self):
        conn = self.connect(self.stls_port)
        capa = self.capa(conn)
        self.assertIn(b"STLS", capa)
        self.assertNotIn(b"USER", capa)
        refused = b"-ERR Login requires TLS: use STLS first.\r\n"
        self.assertEqual(conn.cmd(f"USER {ALICE[0]}"), refused)
        self.assertEqual(conn.cmd(f"PASS {ALICE[1]}"), refused)
        tf.stls(conn, self.ctx())
        capa = self.capa(conn)
        self.assertIn(b"USER", capa)
        self.assertNotIn(b"STLS", capa)
        self.assertEqual(conn.cmd("STLS"), b"-ERR TLS is already active.\r\n")
        self.free()
        self.assertTrue(conn.login(*ALICE).startswith(b"+OK"))
        self.assertNotIn(b"STLS", self.capa(conn))
        self.assertEqual(conn.cmd("STAT"), b"+OK %d %d\r\n" % (
            len(self.messages), sum(len(pf.stored_form(m)) for m in self.messages)))
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))

    def test_stls_after_login_is_refused(self):
        conn = self.connect(self.stls_opt_port)
        self.assertIn(b"USER", self.capa(conn))  # login allowed in plain text here
        self.free()
        self.assertTrue(conn.login(*ALICE).startswith(b"+OK"))
        self.assertNotIn(b"STLS", self.capa(conn))
        self.assertEqual(conn.cmd("STLS"), b"-ERR Command not valid in this state.\r\n")
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))

    def test_implicit_listener_offers_no_stls(self):
        conn = self.tls_session()
        capa = self.capa(conn)
        self.assertIn(b"USER", capa)
        self.assertNotIn(b"STLS", capa)
        self.assertEqual(conn.cmd("STLS"), b"-ERR TLS is already active.\r\n")

    def test_plain_listener_offers_no_stls(self):
        conn = self.connect()
        self.assertNotIn(b"STLS", self.capa(conn))
        self.assertTrue(conn.cmd("STLS").startswith(b"-ERR"))

    # --- SNI ---------------------------------------------------------------------------------

    def test_sni_chooses_the_certificate(self):
        cases = [("localhost", "server"), (SNI_NAME, "sni"), (SNI_NAME.upper(), "sni")]
        for name, which in cases:
            for how in ("pop3s", "stls"):
                with self.subTest(server_name=name, via=how):
                    # Name checking on: the handshake succeeds only with the matching certificate.
                    conn = self.tls_session(server_hostname=name) if how == "pop3s" else \
                        self.stls_session(server_hostname=name)
                    leaf = self.certs[which]
                    self.assertEqual(tf.peer_subject_cn(conn.sock), leaf.common_name)
                    self.assertEqual(tf.peer_serial(conn.sock), leaf.serial)
                    self.assertEqual(conn.cmd("NOOP"), b"-ERR Log in first.\r\n")

    def test_unknown_or_missing_sni_gets_the_default_certificate(self):
        default = self.certs["server"]
        for name in ("unknown.example.test", "example.test", None):
            with self.subTest(server_name=name):
                conn = self.tls_session(server_hostname=name, ctx=self.ctx(verify_name=False))
                self.assertEqual(tf.peer_subject_cn(conn.sock), default.common_name)
                self.assertEqual(tf.peer_serial(conn.sock), default.serial)
                self.assertTrue(conn.greeting.startswith(b"+OK"))


if __name__ == "__main__":
    unittest.main()
