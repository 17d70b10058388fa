"""popgate over JMAP on a real Cyrus IMAP 3.6, against popgate over IMAP on the same Cyrus and
Cyrus's own pop3d, on the same mailbox: sizes and bytes must agree (UIDLs differ by design),
real clients must download everything once, QUIT must delete exactly what DELE marked."""

import hashlib
import socket
import time
import unittest

import popgate_fixture as pf
import test_clients
from cyrus_fixture import CyrusGatewayTestCase, cs, imap_config, jmap_config

ALICE, BOB, CAROL = cs.ALICE, cs.BOB, cs.CAROL


def body(reply):
    """A multi-line reply without its status line."""
    return reply.split(b"\r\n", 1)[1]


class JmapDifferentialTest(CyrusGatewayTestCase):

    @classmethod
    def seed_mail(cls):
        cls.messages = cs.cyrus_messages()
        cls.sandbox.seed(*ALICE, cls.messages)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.imap_gateway = cls.start_gateway(imap_config(cls.sandbox, cs.free_port()), "imap")
        except BaseException:
            cls.tearDownClass()
            raise

    def three(self, user=ALICE):
        """(popgate over JMAP, popgate over IMAP, Cyrus pop3d), logged in on one mailbox."""
        return (self.gateway_session(*user), self.gateway_session(*user, port=self.imap_gateway.port),
                self.connect_cyrus_pop3(user))

    def test_stat_and_list_sizes_agree(self):
        jmap, imap, cyrus = self.three()
        self.assertEqual(jmap.cmd("STAT"), cyrus.cmd("STAT"))
        self.assertEqual(jmap.cmd("STAT"), imap.cmd("STAT"))
        self.assertEqual(body(jmap.cmd_multi("LIST")), body(cyrus.cmd_multi("LIST")))
        self.assertEqual(jmap.cmd_multi("LIST"), imap.cmd_multi("LIST"))
        for n in range(1, len(self.messages) + 1):
            self.assertEqual(jmap.cmd(f"LIST {n}"), imap.cmd(f"LIST {n}"))

    def test_retr_and_top_bytes_agree(self):
        jmap, imap, cyrus = self.three()
        for n in range(1, len(self.messages) + 1):
            retr = None
            for command in (f"RETR {n}", f"TOP {n} 0", f"TOP {n} 1", f"TOP {n} 3", f"TOP {n} 100000"):
                with self.subTest(command=command):
                    j, i, c = jmap.cmd_multi(command), imap.cmd_multi(command), cyrus.cmd_multi(command)
                    # first_difference() only on a mismatch: it walks the 20 MB message in Python.
                    if j != i:
                        self.fail(f"JMAP vs IMAP: {pf.first_difference(i, j)}")
                    if body(j) != body(c):
                        self.fail(f"JMAP vs pop3d: {pf.first_difference(body(c), body(j))}")
                    if retr is None:
                        retr = body(j)
                    else:  # TOP: its lines are a prefix of RETR's, then the terminator
                        self.assertTrue(retr.startswith(body(j)[:-3]), "TOP is not a prefix of RETR")

    def test_retrs_in_order_read_ahead_and_stay_byte_exact(self):
        """RETR 1..N in a row (from the second one popgate downloads the next messages ahead on
        other connections), then TOP of a message being read ahead and its RETR: the bytes of
        Cyrus's own pop3d every time."""
        jmap, _, cyrus = self.three()
        for n in range(1, len(self.messages) + 1):
            j, c = jmap.cmd_multi(f"RETR {n}"), cyrus.cmd_multi(f"RETR {n}")
            if body(j) != body(c):
                self.fail(f"RETR {n}: {pf.first_difference(body(c), body(j))}")
        jmap.cmd_multi("RETR 1")
        jmap.cmd_multi("RETR 2")  # 3 and on are read ahead now
        for command in ("TOP 3 1", "RETR 3", "RETR 4", "TOP 5 0", "RETR 5"):
            with self.subTest(command=command):
                self.assertEqual(body(jmap.cmd_multi(command)), body(cyrus.cmd_multi(command)))

    def test_error_replies_agree_with_imap(self):
        jmap, imap, _ = self.three()
        for command in ("RETR 99", "TOP 1", "TOP 99 1", "LIST 0", "DELE 99", "UIDL 99", "NOOP x"):
            with self.subTest(command=command):
                self.assertEqual(jmap.cmd(command), imap.cmd(command))

    def test_uidls_are_jmap_ids_and_stable_across_sessions(self):
        uidls = []
        for _ in range(2):
            conn = self.gateway_session(*ALICE)
            uidls.append(body(conn.cmd_multi("UIDL")))
            self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")
        first, second = uidls
        self.assertEqual(first, second)
        uidls = [line.split(b" ")[1] for line in first.split(b"\r\n")[:-2]]
        self.assertEqual(len(uidls), len(self.messages))
        self.assertEqual(len(set(uidls)), len(uidls))
        for uidl in uidls:
            self.assertTrue(1 <= len(uidl) <= 70 and all(0x21 <= c <= 0x7e for c in uidl), uidl)

    def test_wrong_password_is_auth_and_an_unknown_user_too(self):
        conn = self.connect()
        self.assertEqual(conn.cmd(f"USER {ALICE[0]}"), b"+OK\r\n")
        self.assertEqual(conn.cmd("PASS wrong"), b"-ERR [AUTH] Authentication failed.\r\n")
        self.assertEqual(conn.cmd("USER nobody-here"), b"+OK\r\n")
        self.assertEqual(conn.cmd("PASS x"), b"-ERR [AUTH] Authentication failed.\r\n")

    def test_other_users_and_passwords_with_quotes(self):
        for user in (BOB, CAROL):
            with self.subTest(user=user[0]):
                conn = self.gateway_session(*user)
                self.assertEqual(conn.cmd("STAT"), b"+OK 0 0\r\n")


class JmapDeleteTest(CyrusGatewayTestCase):
    """Deletion over JMAP, checked over IMAP: only DELE then a QUIT that got +OK removes."""

    SUBJECTS = [f"delete test {i}" for i in range(1, 6)]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.trash_gateway = cls.start_gateway(
                jmap_config(cls.sandbox, cs.free_port(), delete="trash"), "trash")
        except BaseException:
            cls.tearDownClass()
            raise

    def setUp(self):
        self.sandbox.clear(BOB[0])
        self.sandbox.seed(*BOB, [b"From: t@example.net\r\nSubject: %s\r\n\r\nbody %s\r\n"
                                 % (s.encode(), s.encode()) for s in self.SUBJECTS])

    def test_dele_and_quit_remove_exactly_the_marked_messages(self):
        conn = self.gateway_session(*BOB)
        self.assertEqual(conn.cmd("DELE 2"), b"+OK Marked to be deleted.\r\n")
        self.assertEqual(conn.cmd("DELE 4"), b"+OK Marked to be deleted.\r\n")
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")
        self.assertEqual(self.imap_subjects(BOB), ["Subject: " + s for s in
                                                   (self.SUBJECTS[0], self.SUBJECTS[2], self.SUBJECTS[4])])

    def test_a_dropped_session_removes_nothing(self):
        conn = self.gateway_session(*BOB)
        conn.cmd("DELE 1")
        conn.cmd("DELE 3")
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
        time.sleep(0.5)  # give a wrong commit the chance to happen
        self.assertEqual(len(self.imap_subjects(BOB)), len(self.SUBJECTS))

    def test_quit_or_a_drop_mid_read_ahead_removes_exactly_what_was_marked(self):
        conn = self.gateway_session(*BOB)
        self.assertIn(b"delete test 1", conn.cmd_multi("RETR 1"))
        self.assertIn(b"delete test 2", conn.cmd_multi("RETR 2"))  # 3, 4, 5 downloading ahead
        self.assertEqual(conn.cmd("DELE 1"), b"+OK Marked to be deleted.\r\n")
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")
        self.assertEqual(self.imap_subjects(BOB), ["Subject: " + s for s in self.SUBJECTS[1:]])
        dropped = self.gateway_session(*BOB)
        dropped.cmd_multi("RETR 1")
        dropped.cmd_multi("RETR 2")
        dropped.cmd("DELE 2")
        dropped.sock.shutdown(socket.SHUT_RDWR)
        dropped.close()
        time.sleep(0.5)  # give a wrong commit the chance to happen
        self.assertEqual(len(self.imap_subjects(BOB)), len(self.SUBJECTS) - 1)
        again = self.gateway_session(*BOB)  # and the gateway goes on serving
        self.assertIn(b"delete test 4", again.cmd_multi("RETR 3"))

    def test_rset_unmarks(self):
        conn = self.gateway_session(*BOB)
        conn.cmd("DELE 1")
        self.assertTrue(conn.cmd("RSET").startswith(b"+OK"))
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")
        self.assertEqual(len(self.imap_subjects(BOB)), len(self.SUBJECTS))

    def test_delete_trash_moves_to_the_trash_mailbox(self):
        self.sandbox.create_trash(BOB[0])
        conn = self.gateway_session(*BOB, port=self.trash_gateway.port)
        self.assertEqual(conn.cmd("DELE 1"), b"+OK Marked to be deleted.\r\n")
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")
        self.assertEqual(self.imap_subjects(BOB), ["Subject: " + s for s in self.SUBJECTS[1:]])
        self.assertIn("Subject: " + self.SUBJECTS[0], self.imap_subjects(BOB, "Trash"))


class JmapKeptSnapshotTest(CyrusGatewayTestCase):
    """A later login asks Cyrus only what changed since the kept snapshot (Email/queryChanges):
    after mail arrives, mail is expunged elsewhere and POP3 deletes some, every listing must
    equal a fresh one (a gateway that keeps nothing) and Cyrus's own pop3d's sizes."""

    @classmethod
    def gateway_config(cls):
        config = jmap_config(cls.sandbox, cs.free_port())
        config["workers"] = 1  # one cache: each login after the first finds the snapshot
        return config

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.fresh = cls.start_gateway(
                jmap_config(cls.sandbox, cs.free_port(), snapshot_cache_messages=0), "fresh")
        except BaseException:
            cls.tearDownClass()
            raise

    def message(self, n):
        return b"From: k@example.net\r\nSubject: kept %d\r\n\r\nbody %d\r\n" % (n, n)

    def assertSameAsFresh(self):
        kept = self.gateway_session(*BOB)
        fresh = self.gateway_session(*BOB, port=self.fresh.port)
        listing = kept.cmd_multi("UIDL")
        self.assertEqual(listing, fresh.cmd_multi("UIDL"))
        self.assertEqual(kept.cmd_multi("LIST"), fresh.cmd_multi("LIST"))
        self.assertEqual(body(kept.cmd_multi("LIST")), body(self.connect_cyrus_pop3(BOB).cmd_multi("LIST")))
        count = len(body(listing).split(b"\r\n")) - 2
        for n in range(1, count + 1):
            self.assertEqual(kept.cmd_multi(f"RETR {n}"), fresh.cmd_multi(f"RETR {n}"))
        self.assertEqual(kept.cmd("QUIT"), b"+OK Logging out.\r\n")
        self.assertEqual(fresh.cmd("QUIT"), b"+OK Logging out.\r\n")
        return count

    def expunge_elsewhere(self, subject):
        conn = self.sandbox.imap(*BOB)
        try:
            conn.select("INBOX")
            typ, data = conn.search(None, "SUBJECT", f'"{subject}"')
            self.assertEqual(typ, "OK", data)
            conn.store(data[0].decode().replace(" ", ","), "+FLAGS.SILENT", r"(\Deleted)")
            conn.expunge()
        finally:
            conn.logout()

    def test_changes_since_the_kept_snapshot_list_what_a_fresh_login_lists(self):
        self.sandbox.clear(BOB[0])
        self.sandbox.seed(*BOB, [self.message(n) for n in range(1, 6)])
        self.assertEqual(self.assertSameAsFresh(), 5)
        self.sandbox.seed(*BOB, [self.message(n) for n in (6, 7)])  # mail arrives
        self.expunge_elsewhere("kept 2")  # another client deletes
        self.assertEqual(self.assertSameAsFresh(), 6)
        conn = self.gateway_session(*BOB)  # POP3 deletes
        self.assertEqual(conn.cmd("DELE 1"), b"+OK Marked to be deleted.\r\n")
        self.assertEqual(conn.cmd("DELE 6"), b"+OK Marked to be deleted.\r\n")
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")
        self.assertEqual(self.assertSameAsFresh(), 4)
        self.assertEqual(self.assertSameAsFresh(), 4)  # unchanged
        self.assertEqual(self.imap_subjects(BOB), [f"Subject: kept {n}" for n in (3, 4, 5, 6)])
        log = self.gateway.log_text()
        self.assertNotIn("cannot be brought up to date", log)
        # Cyrus's removed may name more than the one expunged (RFC 8620 §5.6 allows it).
        self.assertRegex(log, r"snapshot of 6 messages for bob: 2 added and \d+ removed since the kept")
        self.assertRegex(log, r"snapshot of 4 messages for bob: 0 added and 2 removed since the kept")
        self.assertIn("0 added and 0 removed since the kept snapshot", log)


class JmapClientsTest(CyrusGatewayTestCase, test_clients.ClientsTest):
    """The real clients of the core tests, through the JMAP backend (tests in ClientsTest)."""

    @classmethod
    def seed_mail(cls):
        cls.messages = cs.cyrus_messages()
        cls.sandbox.seed(*ALICE, cls.messages)


class JmapMemoryTest(CyrusGatewayTestCase):
    """A 100 MB message over JMAP to a slow POP3 reader: popgate streams it with back-pressure."""

    SIZE = 100 * 1024 * 1024
    MAX_GROWTH_KIB = 4 * 1024  # the bound, for the Release build
    MAX_GROWTH_KIB_ASAN = 16 * 1024  # ASan's quarantine holds freed buffers (5.4 MiB seen)

    @classmethod
    def seed_mail(cls):
        header = b"From: big@example.net\r\nTo: alice@example.org\r\nSubject: 100 MB\r\n\r\n"
        line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz.\r\n"
        cls.message = header + line * ((cls.SIZE - len(header)) // len(line))
        cls.sandbox.seed(*ALICE, [cls.message])

    def test_100mb_retr_to_a_slow_reader_has_bounded_memory(self):
        pid = self.gateway.proc.pid
        conn = self.gateway_session(*ALICE)
        self.assertEqual(conn.cmd("LIST 1"), b"+OK 1 %d\r\n" % len(self.message))
        conn.cmd_multi("TOP 1 0")  # warm the download path: its first buffers are not growth
        before = pf.vm_kib(pid, "VmHWM")
        conn.send("RETR 1")
        self.assertEqual(conn.read_line(), b"+OK %d octets\r\n" % len(self.message))
        digest = pf.read_body_slowly(conn, len(self.message) + 3)
        growth = pf.vm_kib(pid, "VmHWM") - before
        report = f"peak RSS growth during a 100 MB RETR over JMAP: {growth} KiB"
        print(report)
        bound = self.MAX_GROWTH_KIB_ASAN if pf.sanitized(pid) else self.MAX_GROWTH_KIB
        self.assertLessEqual(growth, bound, report)
        self.assertEqual(digest, hashlib.sha256(self.message + b".\r\n").hexdigest())
        self.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")


if __name__ == "__main__":
    unittest.main()
