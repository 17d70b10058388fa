"""The admin endpoint against a real Prometheus (Debian's `prometheus`): Prometheus scrapes
popgate's /metrics every second, and its HTTP API (/api/v1/query) must come to return the series
a few POP3 sessions produce (a login, a RETR, a failed login, a DELE and QUIT). Also /healthz,
/readyz (503 while a SIGTERM drain waits on an open session), and what other requests get.

Waits end as soon as what they wait for is there (bounded generously); nothing is timed."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest
import urllib.parse

import popgate_fixture as pf
import tls_fixture as tf
from dovecot_sandbox import ALICE, HOST, free_port, stop_process_group
from portwait import wait_for_port

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
SERIES_WAIT_S = 90


def http_get(port, path, method="GET"):
    conn = http.client.HTTPConnection(HOST, port, timeout=pf.IO_TIMEOUT_S)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def samples(exposition):
    """The text format as {'name{labels}': value} (labels as written)."""
    out = {}
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


class Prometheus:
    """A Prometheus server of its own: free port, own storage, scraping one target each second."""

    def __init__(self, workdir, target_port):
        self.dir = os.path.join(workdir, "prometheus")
        os.makedirs(self.dir)
        self.port = free_port()
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write(pf.to_yaml({
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                "scrape_configs": [{"job_name": "popgate",
                                    "static_configs": [{"targets": [f"{HOST}:{target_port}"]}]}],
            }))
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self.proc = None

    def start(self):
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [PROMETHEUS, f"--config.file={self.config}",
                 f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
                 f"--web.listen-address={HOST}:{self.port}"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        if not wait_for_port(self.port, pf.START_TIMEOUT_S, host=HOST, proc=self.proc):
            raise RuntimeError(f"prometheus did not listen:\n{self.log_text()}")
        return self

    def stop(self):
        if self.proc is not None:
            stop_process_group(self.proc)
            self.proc = None

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def query(self, expression):
        """The instant vector of `expression`: [(labels, value)]."""
        status, _, body = http_get(self.port,
                                   "/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
        if status != 200:
            return []
        return [(item["metric"], float(item["value"][1]))
                for item in json.loads(body)["data"]["result"]]

    def wait_for(self, expression, accept, what):
        """Queries until `accept(result)` holds; the last result on failure."""
        deadline = time.monotonic() + SERIES_WAIT_S
        result = []
        while time.monotonic() < deadline:
            result = self.query(expression)
            if accept(result):
                return result
            time.sleep(0.5)
        raise AssertionError(f"Prometheus never showed {what}: {expression} = {result}\n"
                             f"{self.log_text()[-3000:]}")


def one_value(expected):
    return lambda result: len(result) == 1 and result[0][1] == expected


@unittest.skipIf(pf.SELFTEST, "needs popgate's admin endpoint")
class MetricsTest(pf.GatewayTestCase):

    @classmethod
    def seed_mail(cls):
        cls.sandbox.seed(*ALICE, [b"Subject: one\r\n\r\nfirst\r\n", b"Subject: two\r\n\r\nsecond\r\n"])

    @classmethod
    def gateway_config(cls):
        cls.admin_port = free_port()
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["workers"] = 2  # both workers count into the one registry
        config["admin"] = {"port": cls.admin_port}
        return config

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.prometheus = Prometheus(cls.workdir, cls.admin_port).start()

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "prometheus", None):
            cls.prometheus.stop()
        super().tearDownClass()

    def test_prometheus_scrapes_the_sessions(self):
        conn = self.gateway_session(*ALICE)
        self.assertTrue(conn.cmd_multi("RETR 1").startswith(b"+OK"))
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))
        bad = self.connect()
        bad.cmd("USER " + ALICE[0])
        self.assertTrue(bad.cmd("PASS wrong-password").startswith(b"-ERR [AUTH]"))
        bad.cmd("QUIT")
        conn = self.gateway_session(*ALICE)
        self.assertTrue(conn.cmd("DELE 1").startswith(b"+OK"))
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))

        p = self.prometheus
        p.wait_for('up{job="popgate"}', one_value(1), "the target up")
        p.wait_for('popgate_messages_deleted_total{backend="local"}', one_value(1), "the deletion")
        # Both QUITs in TRANSACTION commit (the first with nothing to delete).
        p.wait_for('popgate_commits_total{backend="local",result="ok"}', one_value(2), "the commits")
        p.wait_for('popgate_logins_total{result="ok"}', one_value(2), "two logins")
        p.wait_for('popgate_logins_total{result="failed",code="AUTH"}', one_value(1),
                   "the failed login")
        p.wait_for('popgate_upstream_operations_total{backend="local",kind="retrieve",result="ok"}',
                   one_value(1), "the RETR upstream")
        p.wait_for('popgate_upstream_operation_seconds_count{backend="local",kind="open"}',
                   one_value(3), "three opens timed (one refused by Dovecot)")
        p.wait_for('popgate_upstream_operations_total{kind="open",result="auth"}', one_value(1),
                   "the refused open")
        p.wait_for('popgate_sessions_total{listener="pop3",outcome="closed"}', one_value(3),
                   "three sessions ended by QUIT")
        p.wait_for('popgate_sessions_active{listener="pop3"}', one_value(0), "no session open")
        p.wait_for('popgate_upstream_message_bytes_total{backend="local"} > 0',
                   lambda r: len(r) == 1, "message bytes relayed")
        p.wait_for('popgate_client_bytes_total{direction="out"} > 100', lambda r: len(r) == 1,
                   "bytes to the clients")
        p.wait_for('popgate_logins_throttled_total', lambda r: len(r) == 2,
                   "the throttling series")

    def test_health_readiness_and_other_requests(self):
        status, _, body = http_get(self.admin_port, "/healthz")
        self.assertEqual((status, body), (200, "ok\n"))
        status, _, body = http_get(self.admin_port, "/readyz")
        self.assertEqual((status, body), (200, "ready\n"))
        status, headers, body = http_get(self.admin_port, "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        self.assertEqual(headers["Connection"], "close")
        self.assertIn('popgate_sessions_active{listener="pop3"}', samples(body))
        self.assertEqual(http_get(self.admin_port, "/nothing")[0], 404)
        status, headers, _ = http_get(self.admin_port, "/metrics", method="POST")
        self.assertEqual((status, headers["Allow"]), (405, "GET, HEAD"))
        status, _, body = http_get(self.admin_port, "/healthz", method="HEAD")
        self.assertEqual((status, body), (200, ""))
        with socket.create_connection((HOST, self.admin_port), timeout=pf.IO_TIMEOUT_S) as raw:
            raw.sendall(b"USER alice\r\n\r\n")
            self.assertTrue(raw.recv(4096).startswith(b"HTTP/1.1 400 "))

    def test_readyz_is_503_while_draining(self):
        admin_port = free_port()
        config = pf.base_config(self.sandbox.imap_port, free_port())
        config["admin"] = {"address": HOST, "port": admin_port}
        config["shutdown_timeout_s"] = 120
        gateway = self.start_gateway(config, name="draining")
        conn = self.gateway_session(*ALICE, port=gateway.port)
        self.assertEqual(http_get(admin_port, "/readyz")[0], 200)
        proc = gateway.proc
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + SERIES_WAIT_S
        status = 200
        while status != 503 and time.monotonic() < deadline:
            status = http_get(admin_port, "/readyz")[0]
            if status != 503:
                time.sleep(0.1)
        self.assertEqual(status, 503)
        self.assertEqual(http_get(admin_port, "/healthz")[0], 200)  # alive while draining
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(proc.wait(pf.START_TIMEOUT_S), 0)


@unittest.skipIf(pf.SELFTEST, "needs popgate's admin endpoint")
class TlsMetricsTest(tf.TlsGatewayTestCase):
    """TLS handshakes by listener and result, read from /metrics itself."""

    @classmethod
    def gateway_config(cls):
        cls.admin_port, cls.stls_port, cls.pop3s_port = free_port(), free_port(), free_port()
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["tls"] = tf.tls_block((cls.certs["server"], ["localhost"]))
        config["listeners"] += [
            {"name": "stls", "address": HOST, "port": cls.stls_port, "tls": "starttls"},
            {"name": "pop3s", "address": HOST, "port": cls.pop3s_port, "tls": "implicit"},
        ]
        config["admin"] = {"port": cls.admin_port}
        return config

    def wait_for_samples(self, expected):
        deadline = time.monotonic() + SERIES_WAIT_S
        while True:
            current = samples(http_get(self.admin_port, "/metrics")[2])
            seen = {series: current.get(series) for series in expected}
            if seen == expected or time.monotonic() > deadline:
                return seen
            time.sleep(0.1)

    def test_handshakes_are_counted_by_listener_and_result(self):
        # Counted from here. The harness's own wait for the listeners is a connection to pop3s
        # that sends no ClientHello: a failed handshake, counted once popgate sees it close.
        failed = 'popgate_tls_handshakes_total{listener="pop3s",result="failed"}'
        deadline = time.monotonic() + 3
        while True:
            before = samples(http_get(self.admin_port, "/metrics")[2])
            if before.get(failed) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        ctx = tf.client_context(self.ca)
        with tf.TlsRawPop3(self.pop3s_port, ctx) as conn:
            conn.cmd("QUIT")
        conn = self.connect(self.stls_port)
        tf.stls(conn, ctx)
        conn.cmd("QUIT")
        with socket.create_connection((HOST, self.pop3s_port), timeout=pf.IO_TIMEOUT_S) as raw:
            raw.sendall(b"USER alice\r\n" * 8)  # not a ClientHello
            try:
                while raw.recv(4096):
                    pass
            except OSError:
                pass
        added = {
            'popgate_tls_handshakes_total{listener="pop3s",result="ok"}': 1.0,
            'popgate_tls_handshakes_total{listener="pop3s",result="failed"}': 1.0,
            'popgate_tls_handshakes_total{listener="stls",result="ok"}': 1.0,
        }
        expected = {series: before.get(series, 0.0) + count for series, count in added.items()}
        self.maxDiff = None
        self.assertEqual(self.wait_for_samples(expected), expected)


if __name__ == "__main__":
    unittest.main()
