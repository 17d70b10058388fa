"""The fault matrix: the network between popgate and a real Dovecot (and between the client and
popgate) breaks at every step of a POP3 session, and the client's answer and the mailbox
afterwards must be the right ones.

Each cell has its own IMAP folder of alice's (seeded with the same three messages), its own
backend and SDPS domain in one popgate (`alice@<cell>.test`), and its own fault_relay.py relay
between popgate and Dovecot (or between the client and popgate). The cells run in parallel, so
each one is also the "other session" for the rest. For every cell:

- the client gets `-ERR [SYS/TEMP]` or a closed connection, never `+OK` for work not done, and
  never a RETR body cut short and ended with "." as if complete (compared with the exact bytes);
- nothing is deleted upstream (checked over IMAP, not through popgate) unless DELE and QUIT got
  `+OK`; the one exception is a deletion that the server carried out and whose answer was lost
  (EXPUNGE reply): the client was told `-ERR`, and a retry finds the messages gone;
- the next session of the same mailbox lists every message not deleted, and afterwards no
  message carries `\\Deleted` (the flags a break between UID STORE and UID EXPUNGE leaves are
  cleared at its login).

Then a session opened before the cells (bob's INBOX) still reads its mail byte-exact, and
popgate's RSS is near its baseline. POPGATE_WRITE_FAULT_TABLE=FILE writes the "## Fault matrix"
section of FILE (docs/reliability.md) from the outcomes.
"""

import concurrent.futures
import os
import re
import socket
import struct
import sys
import time
import unittest

import popgate_fixture as pf
import tls_fixture as tf
from dovecot_sandbox import ALICE, BOB
from fault_cells import CLIENT, cells, write_table
from fault_relay import FaultRelay

TEMP = b"-ERR [SYS/TEMP]"
TIMEOUT_S = 2  # popgate's connect and command timeouts toward the relays that stall
BIG_LINES = 2500  # message 2: about 200 KB, so a break at 20,000 bytes is mid-body
RSS_SLACK_KIB = 12 * 1024
PARALLEL = 12


def message(n):
    body = b"line one\r\n.a dot line\r\nbody of message %d\r\n" % n
    if n == 2:
        body = b"".join(b"%s%05d %s\r\n" % (b"." if i % 7 == 0 else b"", i, b"x" * 66)
                        for i in range(BIG_LINES))
    return (b"From: sender@example.net\r\nTo: alice@example.org\r\nSubject: fault %d\r\n\r\n"
            % n + body)


MESSAGES = [message(n) for n in (1, 2, 3)]


# --- the test --------------------------------------------------------------------------------

@unittest.skipIf(pf.SELFTEST, "the relays sit in front of popgate's backends, not Dovecot's POP3")
class FaultMatrixTest(tf.TlsGatewayTestCase):
    upstream_tls = True

    @classmethod
    def seed_mail(cls):
        # POPGATE_FAULT_CELLS=REGEX runs only the cells whose "connection step fault" matches.
        only = re.compile(os.environ.get("POPGATE_FAULT_CELLS", ""), re.I)
        cls.cells = [c for c in cells() if only.search(f"{c.side} {c.step} {c.fault_text}")]
        imap = cls.sandbox.imap(ALICE[0])
        try:
            for n, cell in enumerate(cls.cells, 1):
                cell.name = f"c{n:02d}"
                typ, _ = imap.create(cell.name)
                assert typ == "OK", typ
                for raw in MESSAGES:
                    imap.literal = raw
                    typ, data = imap._simple_command("APPEND", cell.name)
                    assert typ == "OK", data
        finally:
            imap.logout()
        cls.sandbox.seed(*BOB, MESSAGES)

    @classmethod
    def gateway_config(cls):
        config = pf.base_config(cls.sandbox.imap_port, pf.dovecot_sandbox.free_port())
        ca = cls.certs["ca"].cert
        for cell in cls.cells:
            if cell.side == CLIENT:
                port, relay_tls = cls.sandbox.imap_port, False
            elif cell.tls == "implicit":
                port, relay_tls = cls.sandbox.imaps_port, True
            else:
                port, relay_tls = cls.sandbox.imap_port, False
            if cell.side != CLIENT:
                cell.relay = FaultRelay(port, fault=cell.fault, tls=relay_tls)
                port = cell.relay.port
            # Only a stall needs popgate's timeout; a reset or cut must be noticed without it
            # (else the client's 30 s read timeout fails the cell).
            timeout = TIMEOUT_S if cell.fault and cell.fault.action == "stall" else 60
            backend = {"type": "imap", "host": pf.HOST, "port": port, "mailbox": cell.name,
                       "connect_timeout_s": timeout, "command_timeout_s": timeout,
                       **({} if cell.read_ahead else {"read_ahead_bytes": 0})}
            if cell.tls:
                backend.update(tls=cell.tls, ca_file=ca, server_name="localhost")
            config["backends"][cell.name] = backend
            config["routing"]["domains"][f"{cell.name}.test"] = {"backend": cell.name,
                                                                 "upstream_user": "local"}
        return config

    @classmethod
    def tearDownClass(cls):
        for cell in getattr(cls, "cells", ()):
            if cell.relay is not None:
                cell.relay.close()
        super().tearDownClass()

    # --- helpers, safe to call from the cell threads ---------------------------------------

    def upstream(self, folder):
        """{uid: flags} of the folder, read over IMAP straight from Dovecot (read-only)."""
        imap = self.sandbox.imap(ALICE[0])
        try:
            typ, _ = imap.select(folder, readonly=True)
            assert typ == "OK", typ
            typ, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            out = {}
            for item in data:
                if not item:
                    continue
                text = item.decode() if isinstance(item, bytes) else item[0].decode()
                m = re.search(r"UID (\d+) FLAGS \(([^)]*)\)|FLAGS \(([^)]*)\) UID (\d+)", text)
                if m:
                    uid = int(m.group(1) or m.group(4))
                    out[uid] = set((m.group(2) if m.group(1) else m.group(3)).split())
            return out
        finally:
            imap.logout()

    def pop3(self, cell, port=None):
        conn = pf.RawPop3(port or self.port, timeout=30)
        reply = conn.login(f"alice@{cell.name}.test", ALICE[1])
        return conn, reply

    def expect_temp_or_closed(self, conn, command, what):
        """Sends `command`; the answer must be -ERR [SYS/TEMP] or a closed connection."""
        try:
            reply = conn.cmd(command)
        except (ConnectionError, OSError):
            return f"{what}: connection closed"
        assert reply.startswith(TEMP), f"{what}: {reply!r}"
        return f"{what}: -ERR [SYS/TEMP]"

    def retr_exact(self, conn, n):
        reply = conn.cmd_multi(f"RETR {n}")
        assert reply.startswith(b"+OK"), reply
        got = pf.unstuff(reply)
        want = pf.pop3_form(MESSAGES[n - 1])
        assert got == want, pf.first_difference(want, got)

    def read_cut_body(self, conn, n):
        """After RETR n: +OK, some of the body, then a close without the terminator. Returns
        the description; fails if the body was ended as if complete or differs."""
        try:
            status = conn.read_line()
        except (ConnectionError, OSError):
            return "RETR: connection closed"
        if status.startswith(TEMP):
            return "RETR: -ERR [SYS/TEMP]"
        assert status.startswith(b"+OK"), status
        data = conn.buf
        conn.sock.settimeout(30)
        while True:
            try:
                chunk = conn.sock.recv(1 << 16)
            except (ConnectionResetError, OSError):
                chunk = b""
            if not chunk:
                break
            data += chunk
            assert not data.endswith(pf.TERMINATOR), "a cut RETR ended with '.' as if complete"
        stuffed = re.sub(rb"(^|\r\n)\.", rb"\1..", pf.pop3_form(MESSAGES[n - 1]))
        assert not data.endswith(pf.TERMINATOR) and len(data) < len(stuffed) + 3, len(data)
        assert stuffed.startswith(data), "the part of RETR that came differs from the message"
        return "RETR: +OK, part of the body, closed without the final '.'"

    def check_mailbox(self, cell, deleted):
        """Upstream: exactly `deleted` UIDs gone; then the next session (no fault now) lists
        the rest, and afterwards no message carries \\Deleted. Returns the description."""
        flags = self.upstream(cell.name)
        left = sorted(flags)
        assert left == [u for u in (1, 2, 3) if u not in deleted], f"upstream UIDs {left}"
        marked = sorted(uid for uid, f in flags.items() if "\\Deleted" in f)
        if cell.relay is not None:
            cell.relay.heal()
        conn = pf.login_retrying_in_use(self.port, f"alice@{cell.name}.test", ALICE[1])
        try:
            stat = conn.cmd("STAT")
            assert stat.startswith(b"+OK %d " % len(left)), stat
            assert conn.cmd("QUIT").startswith(b"+OK")
        finally:
            conn.close()
        after = self.upstream(cell.name)
        still = sorted(uid for uid, f in after.items() if "\\Deleted" in f or
                       "$PopgateDeleting" in f)
        assert not still, f"flags left after the next session on UIDs {still}"
        gone = ", ".join(str(u) for u in sorted(deleted)) if deleted else ""
        text = (f"message{'s' if len(deleted) > 1 else ''} {gone} deleted" if deleted
                else "nothing deleted")
        if marked:
            text += "; its \\Deleted flags cleared by the next login"
        return text

    # --- scenarios: each returns (client sees, mailbox afterwards) --------------------------

    def login_fails(self, cell):
        try:
            conn, reply = self.pop3(cell)
        except (ConnectionError, OSError):
            return "connection closed", self.check_mailbox(cell, set())
        conn.close()
        assert reply.startswith(TEMP), f"PASS: {reply!r}"
        return "PASS: -ERR [SYS/TEMP]", self.check_mailbox(cell, set())

    def full_session(self, cell):
        conn, reply = self.pop3(cell)
        try:
            assert reply.startswith(b"+OK"), f"PASS: {reply!r}"
            sizes = conn.cmd_multi("LIST")
            want = "".join(f"{n} {len(pf.stored_form(m))}\r\n" for n, m in enumerate(MESSAGES, 1))
            assert sizes.endswith(want.encode() + b".\r\n"), sizes
            self.retr_exact(conn, 2)
            self.retr_exact(conn, 1)
            assert conn.cmd("DELE 1").startswith(b"+OK")
            quit_reply = conn.cmd("QUIT")
            assert quit_reply.startswith(b"+OK"), f"QUIT: {quit_reply!r}"
        finally:
            conn.close()
        return "every reply +OK, RETR byte-exact", self.check_mailbox(cell, {1}) + \
            " (DELE 1, QUIT +OK)"

    def _session(self, cell, act, dele=(3,), port=None):
        """Logs in (through `port`, else straight to popgate), DELEs `dele`, then returns what
        `act(conn)` says the client saw."""
        conn, reply = self.pop3(cell, port)
        try:
            assert reply.startswith(b"+OK"), f"PASS: {reply!r}"
            for n in dele:
                assert conn.cmd(f"DELE {n}").startswith(b"+OK")
            return act(conn)
        finally:
            conn.close()

    def _quit(self, conn):
        return self.expect_temp_or_closed(conn, "QUIT", "QUIT")

    def _cut_retr(self, conn):
        # RETR 1 first: the second RETR in order is the one read-ahead fetches ahead of.
        self.retr_exact(conn, 1)
        conn.send("RETR 2")
        return self.read_cut_body(conn, 2)

    def retr_fails(self, cell):
        seen = self._session(cell, lambda conn: self.expect_temp_or_closed(
            conn, "RETR 2", "RETR") + "; " + self._quit(conn))
        return seen, self.check_mailbox(cell, set())

    def retr_cut(self, cell):
        return self._session(cell, self._cut_retr), self.check_mailbox(cell, set())

    def top_fails(self, cell):
        seen = self._session(cell, lambda conn: self.expect_temp_or_closed(conn, "TOP 2 5", "TOP"))
        return seen, self.check_mailbox(cell, set())

    def dele_then_quit_fails(self, cell):
        def act(conn):
            cell.relay.strike(cell.strike)
            return self._quit(conn)
        return self._session(cell, act), self.check_mailbox(cell, set())

    def quit_fails(self, cell):
        return self._session(cell, self._quit, dele=(1, 2)), self.check_mailbox(cell, set())

    def quit_answer_lost(self, cell):
        # The server expunged and answered; the answer never reached popgate. RFC 1939 has no
        # way to say "perhaps": the client hears -ERR and finds the messages gone on retry.
        seen = self._session(cell, self._quit, dele=(1, 2))
        return seen, self.check_mailbox(cell, {1, 2}) + \
            " (the server had expunged; only its answer was lost)"

    def client_gone_during_quit(self, cell):
        def act(conn):
            conn.send("QUIT")
            assert cell.relay.fired.wait(30), "no UID STORE"
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return "QUIT, then the client reset its connection"
        return self._session(cell, act, dele=(1, 2)), self.check_mailbox(cell, set())

    def _client_relay(self, cell):
        cell.relay = FaultRelay(self.port, fault=cell.fault)
        return cell.relay.port

    def client_retr_cut(self, cell):
        seen = self._session(cell, self._cut_retr, port=self._client_relay(cell))
        return seen, self.check_mailbox(cell, set())

    def client_quit_reset(self, cell):
        seen = self._session(cell, self._quit, dele=(1,), port=self._client_relay(cell))
        return seen, self.check_mailbox(cell, set())

    # --- the run ------------------------------------------------------------------------

    def run_cell(self, cell):
        try:
            cell.outcome = getattr(self, cell.scenario)(cell)
            if cell.relay is not None and cell.fault is not None:
                assert cell.relay.fired.is_set(), "the fault never fired"
            return None
        except Exception as error:  # reported per cell below
            return f"{type(error).__name__}: {error}"

    def session_rss(self):
        pid = self.gateway.proc.pid if self.gateway.proc else None
        return pf.vm_kib(pid, "VmRSS") if pid else None

    def test_fault_matrix(self):
        # Warm up (allocator arenas, TLS contexts), then the baseline.
        for _ in range(3):
            conn = pf.login_retrying_in_use(self.port, *BOB)
            self.retr_exact(conn, 2)
            conn.cmd("QUIT")
            conn.close()
        baseline = self.session_rss()
        bystander = self.gateway_session(*BOB)

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            errors = list(pool.map(self.run_cell, self.cells))
        elapsed = time.monotonic() - started
        for cell, error in zip(self.cells, errors):
            with self.subTest(side=cell.side, step=cell.step, fault=cell.fault_text):
                self.assertIsNone(error)

        # The session opened before the faults still reads its mail.
        for n in (1, 2, 3):
            self.retr_exact(bystander, n)
        self.assertTrue(bystander.cmd("QUIT").startswith(b"+OK"))

        if baseline is not None and not pf.sanitized(self.gateway.proc.pid):
            deadline = time.monotonic() + 10
            while self.session_rss() > baseline + RSS_SLACK_KIB and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertLessEqual(self.session_rss(), baseline + RSS_SLACK_KIB,
                                 f"RSS baseline {baseline} KiB")
        sys.stderr.write(f"{len(self.cells)} cells in {elapsed:.1f} s\n")
        path = os.environ.get("POPGATE_WRITE_FAULT_TABLE")
        if path and not any(errors):
            write_table(path, self.cells)
