"""A backend's `lock:` policy against a real Dovecot, four sessions of one user at once.

`exclusive` (the default, RFC 1939 §8): the first session holds the maildrop, the other three
get `-ERR [IN-USE]`. `none` (Dovecot's own default, `pop3_lock_session = no`, checked here on
the sandbox's POP3 as the reference): all four are served, and deletion stays safe because every
session names messages upstream by UID: one session's DELE + QUIT removes exactly its messages,
another session then gets a clean -ERR for a message that is gone (never a body of another
message), and deleting a message that is already gone is not an error.
"""

import re

import popgate_fixture as pf
from dovecot_sandbox import ALICE, free_port

SESSIONS = 4
COUNT = 6
SHARED = "alice@shared.test"  # routed to the backend with `lock: none`


def message(n):
    return (b"From: a@example.net\r\nTo: alice@example.org\r\nSubject: message %d\r\n"
            b"Message-ID: <lock-%d@popgate.test>\r\n\r\nbody of message %d\r\n" % (n, n, n))


def subject(reply):
    found = re.search(rb"\r\nSubject: message (\d+)\r\n", reply)
    return int(found.group(1)) if found else None


class LockPolicyTest(pf.GatewayTestCase):

    @classmethod
    def gateway_config(cls):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        shared = dict(config["backends"]["local"], lock="none")
        config["backends"]["shared"] = shared
        config["routing"]["domains"]["shared.test"] = {"backend": "shared",
                                                        "upstream_user": "local"}
        # The same exclusive backend, but this domain's logins take no lock.
        config["routing"]["domains"]["phone.test"] = {"backend": "local", "upstream_user": "local",
                                                       "lock": "none"}
        return config

    def setUp(self):
        self.sandbox.clear(ALICE[0])
        self.sandbox.seed(*ALICE, [message(n) for n in range(1, COUNT + 1)])

    def upstream_subjects(self):
        conn = self.sandbox.imap(ALICE[0])
        try:
            conn.select("INBOX")
            typ, data = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            self.assertEqual(typ, "OK")
            return sorted(subject(b"\r\n" + item[1]) for item in data if isinstance(item, tuple))
        finally:
            conn.logout()

    def sessions(self, port, user):
        out = []
        for _ in range(SESSIONS):
            conn = self.connect(port)
            out.append((conn, conn.login(user, ALICE[1])))
        return out

    def test_dovecot_itself_serves_four_sessions(self):
        for conn, reply in self.sessions(self.sandbox.pop3_port, ALICE[0]):
            self.assertTrue(reply.startswith(b"+OK"), reply)

    def test_exclusive_gives_the_others_in_use(self):
        (first, reply), *others = self.sessions(self.port, ALICE[0])
        self.assertTrue(reply.startswith(b"+OK"), reply)
        for _, refused in others:
            self.assertTrue(refused.startswith(b"-ERR [IN-USE]"), refused)
        self.assertTrue(first.cmd("QUIT").startswith(b"+OK"))

    def test_a_domains_lock_none_overrides_its_backend(self):
        for conn, reply in self.sessions(self.port, "alice@phone.test"):
            self.assertTrue(reply.startswith(b"+OK"), reply)
            self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))

    def test_none_serves_four_and_deletes_by_uid(self):
        sessions = self.sessions(self.port, SHARED)
        for _, reply in sessions:
            self.assertTrue(reply.startswith(b"+OK"), reply)
        conns = [conn for conn, _ in sessions]
        uidls = [conn.cmd_multi("UIDL") for conn in conns]
        self.assertEqual(len(set(uidls)), 1, uidls)
        for conn in conns:
            self.assertEqual(conn.cmd("STAT").split()[:2], [b"+OK", str(COUNT).encode()])

        # Session 0 deletes message 3 and quits: it is gone upstream at once.
        self.assertEqual(conns[0].cmd("DELE 3"), b"+OK Marked to be deleted.\r\n")
        self.assertTrue(conns[0].cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(self.upstream_subjects(), [1, 2, 4, 5, 6])

        # The others still list it (their snapshot), but never get another message for it.
        gone = conns[1].cmd_multi("RETR 3")
        self.assertTrue(gone.startswith(b"-ERR"), gone)
        self.assertNotIn(b"\r\n", gone[:-2])  # one line, no body
        for conn, n in ((conns[1], 1), (conns[2], 5), (conns[3], 6), (conns[1], 4)):
            reply = conn.cmd_multi(f"RETR {n}")
            self.assertEqual(subject(reply), n, reply[:200])

        # Session 2 deletes message 3 (already gone) and 4: QUIT succeeds, 4 goes too.
        self.assertTrue(conns[2].cmd("DELE 3").startswith(b"+OK"))
        self.assertTrue(conns[2].cmd("DELE 4").startswith(b"+OK"))
        quit_reply = conns[2].cmd("QUIT")
        self.assertTrue(quit_reply.startswith(b"+OK"), quit_reply)
        self.assertEqual(self.upstream_subjects(), [1, 2, 5, 6])
        self.assertTrue(conns[3].cmd_multi("RETR 4").startswith(b"-ERR"))
        self.assertEqual(subject(conns[3].cmd_multi("RETR 2")), 2)
        for conn in (conns[1], conns[3]):
            self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(self.upstream_subjects(), [1, 2, 5, 6])
