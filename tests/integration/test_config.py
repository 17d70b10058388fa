"""--check-config and the command line: every problem is reported with its YAML line, and a
valid file passes. Also `workers: N`: several event-loop threads share the port and the
mailbox locks."""

import os
import subprocess
import tempfile
import textwrap
import unittest

import popgate_fixture as pf
from dovecot_sandbox import ALICE, BOB, DAVE, free_port

VALID = """\
listeners:
  - name: pop3
    address: 127.0.0.1
    port: 1110
session:
  idle_timeout_s: 600
backends:
  local:
    type: imap
    host: 127.0.0.1
    port: 143
    mailbox: INBOX
routing:
  default_backend: local
  separators: "@+"
  domains:
    example.org: { backend: local, upstream_user: full }
"""


def check(text):
    binary = os.environ["POPGATE_BIN"]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(textwrap.dedent(text))
        path = f.name
    try:
        proc = subprocess.run([binary, "--check-config", path], capture_output=True, text=True,
                              timeout=30)
        return proc.returncode, proc.stdout + proc.stderr.replace(path, "FILE")
    finally:
        os.unlink(path)


@unittest.skipIf(pf.SELFTEST, "checks popgate's own command line")
class CheckConfigTest(unittest.TestCase):

    def test_valid_file_passes(self):
        code, out = check(VALID)
        self.assertEqual(code, 0, out)
        self.assertIn("configuration is valid", out)

    def test_shipped_example_is_valid(self):
        example = os.path.join(os.path.dirname(__file__), "..", "..", "conf", "popgate.yaml")
        with open(example) as f:
            code, out = check(f.read())
        self.assertEqual(code, 0, out)

    def test_every_problem_is_listed_with_its_line(self):
        text = VALID.replace("    port: 1110\n", "    port: 70000\n    colour: blue\n")
        text = text.replace("    host: 127.0.0.1\n    port: 143\n", "    host: 127.0.0.1\n    port: x\n")
        text = text.replace("upstream_user: full", "upstream_user: partial")
        code, out = check(text)
        self.assertNotEqual(code, 0)
        self.assertIn("FILE:4: error: listener port must be between 1 and 65535", out)
        self.assertIn("FILE:5: error: unknown key 'colour' in listener", out)
        self.assertIn("FILE:12: error: backend port has an invalid value 'x'", out)
        self.assertIn("FILE:18: error: upstream_user must be 'full' or 'local'", out)

    def test_references_and_addresses_are_checked(self):
        text = VALID.replace("default_backend: local", "default_backend: nowhere")
        text = text.replace("address: 127.0.0.1", "address: localhost")
        code, out = check(text)
        self.assertNotEqual(code, 0)
        self.assertIn("default_backend names an unknown backend 'nowhere'", out)
        self.assertIn("address must be an IPv4 or IPv6 literal", out)

    def test_unknown_top_level_key_and_bad_workers(self):
        code, out = check(VALID + "workers: 0\nlisteners_extra: 1\n")
        self.assertNotEqual(code, 0)
        self.assertIn("FILE:18: error: workers must be between 1 and 256", out)
        self.assertIn("FILE:19: error: unknown key 'listeners_extra' in the configuration", out)

    def test_shutdown_timeout_is_bounded(self):
        code, out = check(VALID + "shutdown_timeout_s: 0\n")
        self.assertEqual(code, 0, out)  # 0: close every session as soon as the signal comes
        for bad in ("-1", "86401", "soon"):
            code, out = check(VALID + f"shutdown_timeout_s: {bad}\n")
            self.assertNotEqual(code, 0, bad)
            if bad == "soon":
                self.assertIn("FILE:18: error: shutdown_timeout_s has an invalid value 'soon'", out)
            else:
                self.assertIn("FILE:18: error: shutdown_timeout_s must be between 0 and 86400", out)

    def test_two_listeners_on_one_port_are_refused(self):
        # With SO_REUSEPORT the kernel would let both bind and pick one at random per client.
        text = VALID.replace("    port: 1110\n", "    port: 1110\n  - name: pop3s\n    address: 127.0.0.1\n"
                             "    port: 1110\n    tls: implicit\n")
        text += "tls:\n  certificates:\n    - { cert: /nonexistent.pem, key: /nonexistent.key }\n"
        code, out = check(text)
        self.assertNotEqual(code, 0)
        self.assertIn("FILE:5: error: listener 'pop3s' has the same address and port as 'pop3'", out)
        code, out = check(VALID.replace("    port: 1110\n", "    port: 1110\n  - name: other\n"
                                        "    address: 127.0.0.2\n    port: 1110\n"))
        self.assertEqual(code, 0, out)

    def test_yaml_syntax_error_has_a_line(self):
        code, out = check(VALID + "routing: [unclosed\n")
        self.assertNotEqual(code, 0)
        self.assertRegex(out, r"FILE:\d+: error: ")

    def test_read_ahead_bytes_is_bounded(self):
        code, out = check(VALID.replace("mailbox: INBOX", "mailbox: INBOX\n    read_ahead_bytes: 0"))
        self.assertEqual(code, 0, out)
        code, out = check(VALID.replace("mailbox: INBOX",
                                        "mailbox: INBOX\n    read_ahead_bytes: 99999999"))
        self.assertNotEqual(code, 0)
        self.assertIn("FILE:13: error: read_ahead_bytes must be at most 16777216 (16 MiB)", out)

    def test_short_idle_timeout_is_a_warning_not_an_error(self):
        code, out = check(VALID.replace("idle_timeout_s: 600", "idle_timeout_s: 5"))
        self.assertEqual(code, 0, out)
        self.assertIn("FILE:6: warning: idle_timeout_s below 600", out)


class WorkersTest(pf.GatewayTestCase):
    """Four loops on one port: concurrent sessions all work, and the one-session lock holds
    across threads."""

    @classmethod
    def seed_mail(cls):
        for user in (ALICE, BOB, DAVE):
            cls.sandbox.seed(*user, [b"Subject: w\r\n\r\nhello %s\r\n" % user[0].encode()])

    @classmethod
    def gateway_config(cls):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["workers"] = 4
        return config

    def test_many_concurrent_sessions(self):
        sessions = [self.gateway_session(*user) for user in (ALICE, BOB, DAVE)]
        for conn in sessions:
            self.assertEqual(conn.cmd("STAT")[:6], b"+OK 1 ")
        # Eight more tries on alice's mailbox, spread over the workers by the kernel: all refused.
        for _ in range(8):
            other = self.connect()
            self.assertTrue(other.login(*ALICE).startswith(b"-ERR [IN-USE]"))
        for conn in sessions:
            self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")


@unittest.skipIf(pf.SELFTEST, "checks popgate's own command line")
class EnvironmentAndHealthTest(pf.GatewayTestCase):
    """The container's needs, on a plain process: ${NAME} values read from the environment,
    `--health-check HOST:PORT` (the image's HEALTHCHECK) and `--version`."""

    @classmethod
    def seed_mail(cls):
        cls.sandbox.seed(*ALICE, [b"Subject: env\r\n\r\nfrom the environment\r\n"])

    @classmethod
    def gateway_config(cls):
        os.environ["POPGATE_TEST_IMAP_PORT"] = str(cls.sandbox.imap_port)
        config = pf.base_config(0, free_port())
        config["backends"]["local"]["port"] = "${POPGATE_TEST_IMAP_PORT}"
        config["backends"]["local"]["mailbox"] = "${POPGATE_TEST_UNSET_MAILBOX:-INBOX}"
        return config

    def health_check(self, target):
        return subprocess.run([os.environ["POPGATE_BIN"], "--health-check", target],
                              capture_output=True, text=True, timeout=30)

    def test_values_come_from_the_environment(self):
        conn = self.gateway_session(*ALICE)
        self.assertEqual(conn.cmd("STAT")[:6], b"+OK 1 ")
        self.assertEqual(conn.cmd("QUIT")[:3], b"+OK")

    def test_an_unset_variable_is_an_error_with_its_line(self):
        code, out = check(VALID.replace("host: 127.0.0.1", "host: ${POPGATE_TEST_NOT_SET}"))
        self.assertEqual(code, 1)
        self.assertIn("FILE:10: error: backend host: environment variable POPGATE_TEST_NOT_SET is not set",
                      out)

    def test_health_check_passes_on_a_greeting_and_fails_without_a_listener(self):
        before = len(self.gateway.log_text())
        healthy = self.health_check(f"127.0.0.1:{self.port}")
        self.assertEqual(healthy.returncode, 0, healthy.stderr)
        down = self.health_check(f"127.0.0.1:{free_port()}")
        self.assertEqual(down.returncode, 1)
        self.assertIn("unhealthy:", down.stderr)
        bad = self.health_check("no-port")
        self.assertEqual(bad.returncode, 2)
        # The probe said QUIT and waited for its answer: no reset in popgate's log.
        probe_lines = self.gateway.log_text()[before:]
        self.assertIn("connected", probe_lines)
        self.assertNotIn("connection error", probe_lines)

    def test_version_names_the_release(self):
        out = subprocess.run([os.environ["POPGATE_BIN"], "--version"], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout, r"^popgate \d+\.\d+\.\d+ \(\S+\)\nlibuv \d")


if __name__ == "__main__":
    unittest.main()
