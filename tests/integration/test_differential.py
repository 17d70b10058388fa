"""popgate vs Dovecot's own POP3 on the same mailbox: every reply must be byte-identical.

Dovecot's POP3 server is the reference for status-line texts, sizes, UIDLs, TOP line
counting and dot-stuffing. When a status line differs, the failure prints both lines.
"""

import unittest

import popgate_fixture as pf
from dovecot_sandbox import ALICE, BOB, DAVE, free_port, tricky_messages

def is_multi(command):
    return command in ("LIST", "UIDL", "CAPA") or command.startswith(("TOP", "RETR"))


class DifferentialTest(pf.GatewayTestCase):

    @classmethod
    def seed_mail(cls):
        cls.messages = tricky_messages()
        cls.sandbox.seed(*ALICE, cls.messages)

    @classmethod
    def gateway_config(cls):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        # A backend nobody listens on: logins routed there must fail as temporary.
        config["backends"]["dead"] = {"type": "imap", "host": pf.HOST, "port": free_port(),
                                      "mailbox": "INBOX"}
        config["routing"]["domains"]["dead.test"] = {"backend": "dead", "upstream_user": "local"}
        return config

    def sessions(self, user=ALICE):
        """Logged-in (gateway, dovecot) pair on the same mailbox."""
        gw = self.gateway_session(*user)
        dc = self.connect_dovecot()
        reply = dc.login(*user)
        self.assertTrue(reply.startswith(b"+OK"), f"dovecot login: {reply!r}")
        return gw, dc

    def ask(self, conn, command):
        return conn.cmd_multi(command) if is_multi(command) else conn.cmd(command)

    def assertSameReply(self, command, dovecot, popgate):
        if dovecot == popgate:
            return
        d_status, p_status = dovecot.split(b"\r\n", 1)[0], popgate.split(b"\r\n", 1)[0]
        if d_status != p_status:
            self.fail(f"\n{command}: STATUS LINE DIFFERS\n  dovecot: {d_status!r}\n"
                      f"  popgate: {p_status!r}")
        self.fail(f"\n{command}: reply differs, {pf.first_difference(dovecot, popgate)}")

    def compare(self, gw, dc, commands):
        for command in commands:
            with self.subTest(command=command):
                self.assertSameReply(command, self.ask(dc, command), self.ask(gw, command))

    def test_mailbox_listings(self):
        gw, dc = self.sessions()
        self.compare(gw, dc, ["STAT", "LIST", "UIDL"])

    def test_every_message(self):
        gw, dc = self.sessions()
        for n in range(1, len(self.messages) + 1):
            self.compare(gw, dc, [f"LIST {n}", f"UIDL {n}", f"TOP {n} 0", f"TOP {n} 5",
                                  f"RETR {n}"])

    def test_retr_content_is_the_appended_message(self):
        # Guards the comparison above: equal replies must also be the right bytes.
        gw, _ = self.sessions()
        for n, raw in enumerate(self.messages, 1):
            with self.subTest(message=n):
                got = pf.unstuff(gw.cmd_multi(f"RETR {n}"))
                self.assertTrue(got == pf.pop3_form(raw), pf.first_difference(pf.pop3_form(raw), got))

    def test_error_and_state_replies(self):
        gw, dc = self.sessions()
        self.compare(gw, dc, ["LIST 99", "UIDL 99", "TOP 99 0", "RETR 99", "DELE 99",
                              "RETR 0", "DELE 1", "DELE 1", "RETR 1", "LIST 1", "UIDL 1",
                              "TOP 1 0", "STAT", "LIST", "UIDL", "NOOP", "RSET", "STAT",
                              "RETR 1"])
        self.compare(gw, dc, ["QUIT"])

    def test_read_ahead_with_jumps_and_top(self):
        # Sequential RETRs make popgate fetch the next messages ahead (Dovecot answers those
        # pipelined FETCHes interleaved); jumps, TOP and DELE in between must change nothing.
        gw, dc = self.sessions()
        self.compare(gw, dc, ["RETR 1", "RETR 2", "TOP 3 1", "RETR 3", "RETR 4", "RETR 6",
                              "RETR 5", "RETR 6", "RETR 7", "DELE 8", "RETR 8", "RETR 9",
                              "RETR 1", "RETR 2", "RETR 3", "RSET", "QUIT"])

    def test_pipelined_batch_answered_in_order(self):
        gw, dc = self.sessions()
        batch = ["STAT", "LIST", "UIDL 2", "TOP 2 1", "RETR 3", "LIST 99", "NOOP", "UIDL",
                 "RETR 1"]
        wire = "".join(c + "\r\n" for c in batch).encode()
        replies = {}
        for name, conn in (("dovecot", dc), ("popgate", gw)):
            conn.sock.sendall(wire)  # one send: the server sees the whole batch at once
            replies[name] = [conn.read_multi() if is_multi(c) else conn.read_line()
                             for c in batch]
        for command, d, p in zip(batch, replies["dovecot"], replies["popgate"]):
            with self.subTest(command=command):
                self.assertSameReply(command, d, p)

    def test_capa(self):
        reply = self.connect().cmd_multi("CAPA")
        self.assertTrue(reply.startswith(b"+OK"), reply)
        lines = reply.split(b"\r\n")[1:-2]
        names = {line.split(b" ")[0] for line in lines}
        for cap in (b"TOP", b"USER", b"UIDL", b"RESP-CODES", b"AUTH-RESP-CODE", b"PIPELINING",
                    b"IMPLEMENTATION"):
            self.assertIn(cap, names, f"CAPA lacks {cap!r}: {reply!r}")

    def test_wrong_password_then_right_one(self):
        conn = self.connect()
        reply = conn.login(ALICE[0], "not-" + ALICE[1])
        self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)
        # A failed PASS leaves the session in AUTHORIZATION: the client may try again
        # (as bob: alice's mailbox may still be locked by the previous test's session).
        self.assertTrue(conn.login(*BOB).startswith(b"+OK"))
        self.assertTrue(conn.cmd("STAT").startswith(b"+OK"))

    def test_second_session_on_same_mailbox_is_in_use(self):
        first = self.gateway_session(*ALICE)
        second = self.connect()
        reply = second.login(*ALICE)
        self.assertTrue(reply.startswith(b"-ERR [IN-USE]"), reply)
        self.assertTrue(first.cmd("QUIT").startswith(b"+OK"))

    def test_dead_backend_is_temporary_failure(self):
        conn = self.connect()
        reply = conn.login(ALICE[0] + "@dead.test", ALICE[1])
        self.assertTrue(reply.startswith(b"-ERR [SYS/TEMP]"), reply)

    def test_quoted_and_8bit_passwords(self):
        for user in (BOB, DAVE):
            with self.subTest(user=user[0]):
                gw, dc = self.sessions(user)
                self.compare(gw, dc, ["STAT", "LIST", "UIDL", "QUIT"])


if __name__ == "__main__":
    unittest.main()
