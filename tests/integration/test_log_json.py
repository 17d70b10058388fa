"""`log: {format: json}`: every line popgate writes is one JSON object; every line of a session
carries the session's id, from the accept to the close, with the client's address, and the user
and backend once known; no secret appears, and bytes from the network stay inside their JSON
string (a login name with ESC and CR cannot break a line). At log.level trace the IMAP exchange
of a session's upstream connection carries the session's id too."""

import json
import time
import unittest

import popgate_fixture as pf
from dovecot_sandbox import ALICE, free_port


@unittest.skipIf(pf.SELFTEST, "reads popgate's log")
class JsonLogTest(pf.GatewayTestCase):

    @classmethod
    def seed_mail(cls):
        cls.sandbox.seed(*ALICE, [b"Subject: logged\r\n\r\nhello\r\n"])

    @classmethod
    def gateway_config(cls):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["log"] = {"level": "trace", "format": "json"}
        return config

    def lines(self):
        """Every line of the log, parsed (a line that is not JSON fails the test)."""
        out = []
        for n, line in enumerate(self.gateway.log_text().splitlines(), 1):
            try:
                out.append(json.loads(line))
            except ValueError as e:
                self.fail(f"log line {n} is not JSON ({e}): {line!r}")
        return out

    def session_lines(self, marker):
        """The lines of the session whose lines include `marker` in a message, once it closed."""
        def find():
            lines = self.lines()
            ids = {l.get("session") for l in lines if marker in l["message"] and "session" in l}
            if len(ids) != 1:
                return None
            session = ids.pop()
            mine = [l for l in lines if l.get("session") == session]
            return mine if mine and mine[-1].get("event") == "session_end" else None
        mine = None
        deadline = time.monotonic() + pf.START_TIMEOUT_S
        while mine is None and time.monotonic() < deadline:
            mine = find()
            if mine is None:
                time.sleep(0.05)
        self.assertIsNotNone(mine, self.gateway.log_text()[-3000:])
        return mine

    def test_a_session_shares_its_id_from_accept_to_close(self):
        conn = self.gateway_session(*ALICE)
        conn.cmd_multi("RETR 1")
        conn.cmd("QUIT")
        mine = self.session_lines(f"login {ALICE[0]} ok")
        self.assertIn("connected", mine[0]["message"])
        self.assertEqual(mine[-1]["event"], "session_end")
        self.assertIn("duration_ms", mine[-1])
        self.assertTrue(all(l["client"].startswith(pf.HOST + ":") for l in mine))
        login = next(l for l in mine if f"login {ALICE[0]} ok" in l["message"])
        self.assertEqual((login["event"], login["user"], login["backend"]),
                         ("login", ALICE[0], "local"))
        self.assertIsInstance(login["duration_ms"], int)
        # The upstream IMAP exchange (log.level trace) is the session's too, both ways.
        messages = [l["message"] for l in mine]
        self.assertTrue(any(" C: p1 AUTHENTICATE PLAIN ***" in m for m in messages), messages)
        self.assertTrue(any(" S: * OK " in m for m in messages), messages)
        self.assertTrue(any(" S: * 1 FETCH (UID 1 BODY[] " in m for m in messages), messages)
        for line in self.lines():
            self.assertEqual(set(line) - {"time", "level", "event", "message", "session",
                                          "client", "user", "backend", "duration_ms"}, set())
            self.assertIn(line["level"], {"trace", "debug", "info", "warning", "error"})
        self.assertEqual(pf.leaked_secrets(self.gateway.log_text()), [])

    def test_network_bytes_stay_in_their_string(self):
        pf.add_secret("wrong-password-json")
        conn = self.connect()
        conn.send(b"USER evil\x1b[31mRED\rFAKE\"}")
        conn.read_line()
        conn.send(b"PASS wrong-password-json")
        conn.read_line()
        conn.send(b"QUIT")
        conn.read_line()
        mine = self.session_lines("login evil")
        failed = next(l for l in mine if "login evil" in l["message"])
        self.assertEqual(failed["user"], "evil\x1b[31mRED\rFAKE\"}")
        self.assertNotIn(b"\x1b", self.gateway.log_text().encode())
        self.assertNotIn("wrong-password-json", self.gateway.log_text())


if __name__ == "__main__":
    unittest.main()
