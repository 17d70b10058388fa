"""TLS towards POP3 clients: which TLS versions and cipher suites an implicit-TLS listener
admits (`tls.min_version`, `tls.ciphers`), with Python's ssl module pinned to one version."""

import ssl
import unittest

import popgate_fixture as pf
import tls_fixture as tf
from dovecot_sandbox import free_port


class TlsVersionsTest(tf.TlsGatewayTestCase):
    """min_version: the default (tls1.2) refuses TLS 1.0/1.1 clients, tls1.0 admits them,
    tls1.3 refuses TLS 1.2; `ciphers` restricts TLS 1.2 suites."""

    @classmethod
    def gateway_config(cls):
        return cls.config_with()

    @classmethod
    def config_with(cls, **tls_options):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["tls"] = tf.tls_block((cls.certs["server"], ["localhost"]), **tls_options)
        config["listeners"] = [{"name": "pop3s", "address": pf.HOST, "port": free_port(),
                                "tls": "implicit"}]
        return config

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.tls10 = cls.start_gateway(cls.config_with(min_version="tls1.0"))
            cls.tls13 = cls.start_gateway(cls.config_with(min_version="tls1.3"))
            cls.aes256 = cls.start_gateway(cls.config_with(ciphers="ECDHE-ECDSA-AES256-GCM-SHA384"))
        except BaseException:
            cls.tearDownClass()
            raise

    def handshake(self, port, version, ciphers=None):
        """The negotiated (version, cipher) of a client pinned to `version`; raises SSLError."""
        ctx = tf.client_context(self.ca)
        ctx.minimum_version = ctx.maximum_version = version
        if version < ssl.TLSVersion.TLSv1_2:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.0/1.1 at level 1+
        if ciphers:
            ctx.set_ciphers(ciphers)
        conn = tf.TlsRawPop3(port, ctx)
        self.addCleanup(conn.close)
        self.assertTrue(conn.greeting.startswith(b"+OK"))
        return conn.sock.version(), conn.sock.cipher()[0]

    def test_default_minimum_is_tls12(self):
        for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            with self.subTest(version=version.name), self.assertRaises(ssl.SSLError):
                self.handshake(self.port, version)
        self.assertEqual(self.handshake(self.port, ssl.TLSVersion.TLSv1_2)[0], "TLSv1.2")
        self.assertEqual(self.handshake(self.port, ssl.TLSVersion.TLSv1_3)[0], "TLSv1.3")

    def test_min_version_tls10_admits_old_clients(self):
        for version, name in ((ssl.TLSVersion.TLSv1, "TLSv1"), (ssl.TLSVersion.TLSv1_1, "TLSv1.1"),
                              (ssl.TLSVersion.TLSv1_2, "TLSv1.2")):
            with self.subTest(version=name):
                self.assertEqual(self.handshake(self.tls10.port, version)[0], name)

    def test_min_version_tls13_refuses_tls12(self):
        with self.assertRaises(ssl.SSLError):
            self.handshake(self.tls13.port, ssl.TLSVersion.TLSv1_2)
        self.assertEqual(self.handshake(self.tls13.port, ssl.TLSVersion.TLSv1_3)[0], "TLSv1.3")

    def test_cipher_list_restricts_tls12(self):
        self.assertEqual(self.handshake(self.aes256.port, ssl.TLSVersion.TLSv1_2),
                         ("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384"))
        with self.assertRaises(ssl.SSLError):
            self.handshake(self.aes256.port, ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256")
        # TLS 1.3 suites are not governed by the TLS 1.2 list (fixed in BoringSSL).
        self.assertEqual(self.handshake(self.aes256.port, ssl.TLSVersion.TLSv1_3)[0], "TLSv1.3")


if __name__ == "__main__":
    unittest.main()
