"""SIGHUP reloads the whole configuration (listeners, backends, routes, limits): new sessions
get the new one, sessions in progress keep the one they started with, the mailbox locks span
both, no client is refused while the listeners change hands, and an invalid file changes
nothing (its problems are logged with their lines). The admin listener and the log format
follow the file too."""

import http.client
import json
import os
import signal
import socket
import threading
import time
import unittest

import popgate_fixture as pf
from dovecot_sandbox import ALICE, BOB, free_port
from tls_fixture import wait_for_log_count

RELOADED = "SIGHUP: configuration reloaded"
NOT_RELOADED = "SIGHUP: configuration not reloaded, the previous one stays"
RETIRED = "SIGHUP: the sessions of a previous configuration have all ended"


@unittest.skipIf(pf.SELFTEST, "reloads popgate itself")
class ReloadTest(pf.GatewayTestCase):
    """Alice and bob have two messages in INBOX and one in Archive. The first configuration
    shows INBOX; the reloaded one shows Archive and adds a second listener."""

    @classmethod
    def seed_mail(cls):
        for user in (ALICE, BOB):
            cls.sandbox.clear(user[0])
            cls.sandbox.seed(*user, [b"Subject: inbox %d\r\n\r\nin INBOX\r\n" % i
                                     for i in (1, 2)])
            conn = cls.sandbox.imap(user[0], user[1])
            try:
                conn.create("Archive")
                conn.literal = b"Subject: archived\r\n\r\nin Archive\r\n"
                typ, data = conn._simple_command("APPEND", "Archive")
                assert typ == "OK", data
            finally:
                conn.logout()

    @classmethod
    def gateway_config(cls):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["log"] = {"level": "info"}
        return config

    def rewrite(self, config):
        with open(self.gateway.config_path, "w", encoding="utf-8") as f:
            f.write(pf.to_yaml(config))

    def sighup(self, expect):
        before = self.gateway.log_text().count(expect)
        self.gateway.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for_log_count(self.gateway, expect, before + 1),
                        f"no {expect!r} in the log:\n{self.gateway.log_text()[-2000:]}")

    def stat_count(self, conn):
        reply = conn.cmd("STAT")
        self.assertTrue(reply.startswith(b"+OK "), reply)
        return int(reply.split()[1])

    def test_reload_applies_to_new_sessions_and_spares_those_in_progress(self):
        original = pf.base_config(self.sandbox.imap_port, self.port)
        original["log"] = {"level": "info"}
        in_progress = self.gateway_session(*ALICE)         # logged in on the first configuration
        not_logged_in = self.connect()                     # greeted, not yet logged in
        self.assertTrue(not_logged_in.greeting.startswith(b"+OK"))

        second_port = free_port()
        reloaded = pf.base_config(self.sandbox.imap_port, self.port)
        reloaded["log"] = {"level": "info"}
        reloaded["backends"]["local"]["mailbox"] = "Archive"
        reloaded["listeners"].append({"name": "second", "address": pf.HOST, "port": second_port})
        self.rewrite(reloaded)
        self.sighup(RELOADED)

        # In progress: still INBOX, for the logged-in session and for the one that logs in now.
        self.assertEqual(self.stat_count(in_progress), 2)
        self.assertTrue(not_logged_in.login(*BOB).startswith(b"+OK"))
        self.assertEqual(self.stat_count(not_logged_in), 2)
        self.assertEqual(not_logged_in.cmd("QUIT")[:3], b"+OK")

        # New sessions: Archive, on the kept listener and on the new one.
        for port in (self.port, second_port):
            conn = self.gateway_session(*BOB, port=port)
            self.assertEqual(self.stat_count(conn), 1)
            self.assertEqual(conn.cmd("QUIT")[:3], b"+OK")
        # The lock of the first configuration's session holds for the new one.
        other = self.connect()
        self.assertTrue(other.login(*ALICE).startswith(b"-ERR [IN-USE]"))
        self.assertEqual(in_progress.cmd("QUIT")[:3], b"+OK")
        self.assertTrue(wait_for_log_count(self.gateway, RETIRED, 1), "old workers never ended")

        # Back to the first file: the second listener closes.
        self.rewrite(original)
        self.sighup(RELOADED)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((pf.HOST, second_port), timeout=5).close()
        conn = self.gateway_session(*BOB)
        self.assertEqual(self.stat_count(conn), 2)
        self.assertEqual(conn.cmd("QUIT")[:3], b"+OK")

    def test_admin_listener_and_log_format_follow_the_file(self):
        original = pf.base_config(self.sandbox.imap_port, self.port)
        original["log"] = {"level": "info"}
        admin_port = free_port()
        reloaded = pf.base_config(self.sandbox.imap_port, self.port)
        reloaded["log"] = {"level": "info", "format": "json"}
        reloaded["admin"] = {"address": pf.HOST, "port": admin_port}
        self.rewrite(reloaded)
        try:
            self.sighup(RELOADED)
            conn = http.client.HTTPConnection(pf.HOST, admin_port, timeout=pf.IO_TIMEOUT_S)
            conn.request("GET", "/metrics")
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            self.assertIn(b"popgate_", response.read())
            conn.close()
            # A session after the reload logs JSON lines, one object each.
            before = len(self.gateway.log_text().splitlines())
            session = self.gateway_session(*BOB)
            self.assertEqual(session.cmd("QUIT")[:3], b"+OK")
            self.assertTrue(wait_for_log_count(self.gateway, '"event"', 1))
            lines = self.gateway.log_text().splitlines()[before:]
            logged = [json.loads(line) for line in lines if line.startswith("{")]
            self.assertTrue(any(entry.get("user") == "bob" for entry in logged), lines)
        finally:
            self.rewrite(original)
            self.sighup(RELOADED)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((pf.HOST, admin_port), timeout=5).close()
        self.assertTrue(self.gateway.log_text().splitlines()[-1][0].isdigit(), "text again")

    def test_invalid_file_changes_nothing(self):
        with open(self.gateway.config_path, encoding="utf-8") as f:
            valid = f.read()
        try:
            with open(self.gateway.config_path, "a", encoding="utf-8") as f:
                f.write("no_such_key: 1\n")
            self.sighup(NOT_RELOADED)
            line = valid.count("\n") + 1
            self.assertIn(f"{self.gateway.config_path}:{line}: unknown key 'no_such_key'",
                          self.gateway.log_text())
            conn = self.gateway_session(*BOB)
            self.assertEqual(self.stat_count(conn), 2)
            self.assertEqual(conn.cmd("QUIT")[:3], b"+OK")
        finally:
            with open(self.gateway.config_path, "w", encoding="utf-8") as f:
                f.write(valid)

    def test_no_client_is_refused_while_the_listeners_change_hands(self):
        greetings, failures = [], []
        stop = threading.Event()

        def connect_repeatedly():
            while not stop.is_set():
                try:
                    with socket.create_connection((pf.HOST, self.port), timeout=10) as sock:
                        greeting = sock.makefile("rb").readline()
                        sock.sendall(b"QUIT\r\n")
                        (greetings if greeting.startswith(b"+OK") else failures).append(greeting)
                except OSError as error:
                    failures.append(repr(error))

        client = threading.Thread(target=connect_repeatedly)
        client.start()
        try:
            for _ in range(3):
                self.sighup(RELOADED)
                time.sleep(0.2)
        finally:
            stop.set()
            client.join()
        self.assertEqual(failures, [])
        self.assertGreater(len(greetings), 0)


if __name__ == "__main__":
    unittest.main()
