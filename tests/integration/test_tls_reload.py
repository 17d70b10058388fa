"""TLS files: `popgate --check-config` reports unusable certificates and keys with their line;
`kill -HUP` replaces the certificates without dropping sessions.

- CheckConfigTest: no Dovecot; runs $POPGATE_BIN --check-config on generated files.
- ReloadTest: popgate with live certificate files that the tests replace, then SIGHUP.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

import popgate_fixture as pf
import tls_certs
import tls_fixture as tf
from dovecot_sandbox import ALICE, free_port, tricky_messages

SNI_NAME = "other.example.test"
RELOADED = "SIGHUP: configuration reloaded"
RELOAD_FAILED = "SIGHUP: configuration not reloaded, the previous one stays"


def binary():
    path = os.environ.get("POPGATE_BIN")
    if not path:
        raise RuntimeError("set POPGATE_BIN to the popgate binary")
    return path


class CheckConfigTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="popgate-CheckConfigTest-")
        os.chmod(cls.dir, 0o755)
        cls.certs = tls_certs.server_set(os.path.join(cls.dir, "certs"))

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("POPGATE_KEEP_TMP") != "1":
            shutil.rmtree(cls.dir, ignore_errors=True)

    def config(self, certificates=None, backend_tls=None):
        """A config with listeners stls and pop3s; certificates: [(cert, key, names)]."""
        server = self.certs["server"]
        certificates = certificates or [(server.cert, server.key, ["localhost"])]
        config = {
            "tls": {"certificates": [{"cert": c, "key": k, "server_names": n}
                                     for c, k, n in certificates]},
            "listeners": [
                {"name": "pop3", "address": "192.0.2.1", "port": 110, "tls": "starttls"},
                {"name": "pop3s", "address": "192.0.2.1", "port": 995, "tls": "implicit"}],
        }
        base = pf.base_config(143, 1110)
        config["backends"] = base["backends"]
        config["backends"]["local"].update(backend_tls or {})
        config["routing"] = base["routing"]
        return pf.to_yaml(config)

    def check(self, text, as_user=None):
        path = os.path.join(self.dir, f"config-{self.id().rsplit('.', 1)[-1]}.yaml")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        preexec = None
        if as_user is not None:
            pw = pwd.getpwnam(as_user)

            def preexec():
                os.setgid(pw.pw_gid)
                os.setgroups([])
                os.setuid(pw.pw_uid)
        proc = subprocess.run([binary(), "--check-config", path], capture_output=True, text=True,
                              timeout=30, preexec_fn=preexec)
        return path, proc.returncode, proc.stdout, proc.stderr

    def block_lines(self, text, key):
        """1-based line range of the top-level block `key:` in text."""
        lines = text.splitlines()
        start = next(i for i, line in enumerate(lines) if line == f"{key}:")
        end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")),
                   len(lines))
        return range(start + 1, end + 1)

    def assertError(self, text, file, message, block="tls", as_user=None):
        """--check-config fails with `CONFIG:LINE: error: ...message...` naming `file`, LINE
        inside the block that configures it."""
        path, rc, out, err = self.check(text, as_user)
        self.assertNotEqual(rc, 0, f"--check-config accepted it: {out!r} {err!r}")
        errors = re.findall(rf"^{re.escape(path)}:(\d+): error: (.*)$", err, re.M)
        matching = [(int(line), msg) for line, msg in errors if file in msg and message in msg]
        self.assertTrue(matching, f"no error naming {file} ({message!r}):\n{err}")
        self.assertIn(matching[0][0], self.block_lines(text, block), err)
        return err

    def test_valid_config(self):
        server, sni = self.certs["server"], self.certs["sni"]
        path, rc, out, err = self.check(self.config(
            [(server.cert, server.key, ["localhost"]), (sni.cert, sni.key, [SNI_NAME])],
            {"tls": "implicit", "ca_file": self.certs["ca"].cert, "server_name": "localhost"}))
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, f"{path}: configuration is valid\n")

    def test_missing_certificate(self):
        missing = os.path.join(self.dir, "no-such-cert.pem")
        self.assertError(self.config([(missing, self.certs["server"].key, [])]), missing,
                         "cannot read certificate")

    def test_missing_key(self):
        missing = os.path.join(self.dir, "no-such-key.pem")
        self.assertError(self.config([(self.certs["server"].cert, missing, [])]), missing,
                         "cannot read key")

    def test_key_without_read_permission(self):
        # Root reads any file: the real case is popgate as a service user, key owned by root.
        # (The tests run as root, see README.md: popgate is run as nobody here.)
        key = os.path.join(self.dir, "root-only.key")
        shutil.copy(self.certs["server"].key, key)
        os.chmod(key, 0o600)
        self.assertError(self.config([(self.certs["server"].cert, key, [])]), key,
                         "cannot read key", as_user="nobody")

    def test_certificate_that_is_not_pem(self):
        garbage = os.path.join(self.dir, "garbage.pem")
        with open(garbage, "w") as f:
            f.write("this is not a certificate\n")
        self.assertError(self.config([(garbage, self.certs["server"].key, [])]), garbage,
                         "bad certificate")

    # BoringSSL checks the pair while loading the key: "bad key FILE: ...KEY_VALUES_MISMATCH".
    def test_key_of_another_certificate(self):
        server, foreign = self.certs["server"], self.certs["foreign"]
        self.assertError(self.config([(server.cert, foreign.key, [])]), foreign.key,
                         "KEY_VALUES_MISMATCH")

    def test_second_certificate_is_checked_too(self):
        server, sni = self.certs["server"], self.certs["sni"]
        self.assertError(self.config([(server.cert, server.key, ["localhost"]),
                                      (sni.cert, server.key, [SNI_NAME])]),
                         server.key, "KEY_VALUES_MISMATCH")

    def test_unreadable_upstream_ca_file(self):
        missing = os.path.join(self.dir, "no-such-ca.pem")
        self.assertError(self.config(backend_tls={"tls": "implicit", "ca_file": missing}),
                         missing, "cannot read CA file", block="backends")


class ReloadTest(tf.TlsGatewayTestCase):
    """Certificates live in DIR/live; tests replace them (rename, as deploy tools do) and send
    SIGHUP. Listeners: plain (harness), pop3s, stls (auth_requires_tls)."""

    @classmethod
    def seed_mail(cls):
        cls.messages = tricky_messages()[:3]
        cls.sandbox.seed(*ALICE, cls.messages)

    @classmethod
    def gateway_config(cls):
        cls.live = os.path.join(cls.workdir, "live")
        os.makedirs(cls.live)
        cls.cert_path, cls.key_path = (os.path.join(cls.live, "server.pem"),
                                       os.path.join(cls.live, "server.key"))
        cls.install(cls.certs["server"])
        cls.pop3s_port, cls.stls_port = free_port(), free_port()
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        live = tls_certs.Leaf(cls.cert_path, cls.key_path, 0, "", (), ())
        config["tls"] = tf.tls_block((live, ["localhost"]), (cls.certs["sni"], [SNI_NAME]))
        config["listeners"] += [
            {"name": "pop3s", "address": pf.HOST, "port": cls.pop3s_port, "tls": "implicit"},
            {"name": "stls", "address": pf.HOST, "port": cls.stls_port, "tls": "starttls",
             "auth_requires_tls": True}]
        return config

    @classmethod
    def install(cls, leaf, key=None):
        """Atomically replace the live certificate and key files."""
        for source, target in ((leaf.cert, cls.cert_path), (key or leaf.key, cls.key_path)):
            shutil.copy(source, target + ".new")
            os.replace(target + ".new", target)

    def sighup(self, expect):
        before = self.gateway.log_text().count(expect)
        self.gateway.proc.send_signal(signal.SIGHUP)
        self.assertTrue(tf.wait_for_log_count(self.gateway, expect, before + 1),
                        f"no {expect!r} in the log")

    def pop3s(self, server_hostname="localhost"):
        conn = tf.TlsRawPop3(self.pop3s_port, tf.client_context(self.ca), server_hostname)
        self.addCleanup(conn.close)
        return conn

    def serial(self, server_hostname="localhost"):
        """Serial of the certificate a new POP3S connection gets."""
        return tf.peer_serial(self.pop3s(server_hostname).sock)

    def new_leaf(self, name):
        return self.certs["ca"].issue(name, common_name=f"localhost {name}", dns=["localhost"],
                                      ips=[pf.HOST])

    def test_sighup_replaces_certificate_sessions_survive(self):
        old, new = self.serial(), self.new_leaf("reloaded")
        pf.wait_until_free(self.port, *ALICE)
        # Sessions opened before the reload: logged in over POP3S; plain before its STLS;
        # TCP-connected to POP3S without a ClientHello yet.
        logged_in = self.pop3s()
        self.assertTrue(logged_in.login(*ALICE).startswith(b"+OK"))
        before_stls = self.connect(self.stls_port)
        pending = socket.create_connection((pf.HOST, self.pop3s_port), timeout=pf.IO_TIMEOUT_S)
        self.addCleanup(pending.close)
        # A round trip after the connect, so popgate has most likely accepted `pending` too (its
        # certificate below is the same either way: SNI picks the unchanged second one).
        self.assertEqual(before_stls.cmd("NOOP"), b"-ERR Log in first.\r\n")

        self.install(new)
        self.sighup(RELOADED)

        # New connections get the new certificate, over POP3S and STLS; SNI still works.
        self.assertEqual(self.serial(), new.serial)
        self.assertEqual(tf.peer_subject_cn(self.pop3s().sock), new.common_name)
        fresh = tf.stls(self.connect(self.stls_port), tf.client_context(self.ca))
        self.assertEqual(tf.peer_serial(fresh.sock), new.serial)
        self.assertEqual(self.serial(SNI_NAME), self.certs["sni"].serial)

        # The logged-in session goes on: every message, then a clean QUIT.
        for n, message in enumerate(self.messages, 1):
            self.assertEqual(pf.unstuff(logged_in.cmd_multi(f"RETR {n}")), pf.pop3_form(message))
        self.assertTrue(logged_in.cmd("QUIT").startswith(b"+OK"))
        # The plain session upgrades with the context it was accepted with (the old one).
        tf.stls(before_stls, tf.client_context(self.ca))
        self.assertEqual(tf.peer_serial(before_stls.sock), old)
        self.assertTrue(before_stls.login(*ALICE).startswith(b"+OK"))
        self.assertTrue(before_stls.cmd("QUIT").startswith(b"+OK"))
        # The connection accepted before the reload handshakes now, with SNI.
        pending = tf.client_context(self.ca).wrap_socket(pending, server_hostname=SNI_NAME)
        self.assertEqual(tf.peer_serial(pending), self.certs["sni"].serial)
        self.assertEqual(pending.recv(100), b"+OK POP3 gateway ready.\r\n")

    def test_failed_reload_keeps_certificates(self):
        current = self.serial()
        broken = self.new_leaf("broken")
        self.install(broken, key=self.certs["foreign"].key)  # key of another certificate
        try:
            self.sighup(RELOAD_FAILED)
            self.assertRegex(self.gateway.log_text(),
                             re.escape(RELOAD_FAILED) + ".*" + re.escape(self.key_path))
            self.assertEqual(self.serial(), current)
            self.assertTrue(self.pop3s().cmd("NOOP").startswith(b"-ERR Log in first."))
        finally:
            good = self.new_leaf("repaired")
            self.install(good)
            self.sighup(RELOADED)
        self.assertEqual(self.serial(), good.serial)


if __name__ == "__main__":
    unittest.main()
