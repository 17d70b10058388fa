"""The store-independent half of test_stores.py: StoreTests, mixed into a GatewayTestCase per
store, compares popgate (imap backend, the store's `uidl_format` preset) with the store's own
pop3d on one mailbox, and points real clients (mpop, fetchmail) from one to the other; plus
the small helpers it and the store classes share."""

import collections
import os
import re
import socket

import popgate_fixture as pf
from dovecot_sandbox import ALICE, BOB, DAVE, _msg, free_port

SMALL = [_msg(b"small %d" % n, b"message %d\r\n" % n) for n in range(1, 6)]


def subject(raw):
    return re.search(rb"Subject: ([^\r\n]*)", raw).group(1).decode("utf-8", "replace")


def without(messages, *subjects):
    out = [m for m in messages if subject(m) not in subjects]
    assert len(out) == len(messages) - len(subjects), "a corpus message was renamed"
    return out


def is_multi(command):
    return command in ("LIST", "UIDL", "CAPA") or command.startswith(("TOP", "RETR"))


def status(reply):
    return b"+OK" if reply.startswith(b"+OK") else reply[:4]


def body(reply):
    """A multi-line +OK reply without its status line (terminator and dot-stuffing kept)."""
    return reply.split(b"\r\n", 1)[1] if reply.startswith(b"+OK") else b""


class StoreTests:
    """Mixed into a GatewayTestCase: popgate (imap backend, `uidl_format: UIDL_FORMAT`) vs the
    store's own pop3d. A store class sets make_sandbox(), CORPUS, UIDL_FORMAT, UIDL_TEMPLATE,
    DIFFERENCES and, where it has them, the stored_form() and store_only_reply() hooks."""

    UIDL_FORMAT = None
    UIDL_TEMPLATE = None  # the same as a Dovecot-style template
    CORPUS = ()
    DIFFERENCES = {}

    @classmethod
    def seed_mail(cls):
        cls.messages = list(cls.CORPUS)
        cls.sandbox.seed(*ALICE, cls.messages)

    @classmethod
    def config(cls, uidl_format):
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["backends"]["local"]["uidl_format"] = uidl_format
        return config

    @classmethod
    def gateway_config(cls):
        return cls.config(cls.UIDL_FORMAT)

    # --- hooks ----------------------------------------------------------------------------

    @classmethod
    def stored_form(cls, raw):
        """RETR's content for an APPENDed message (dot-unstuffed)."""
        return pf.pop3_form(raw)

    def store_only_reply(self, n, command, store_reply, popgate_reply):
        """True if `command` on message n is one of DIFFERENCES (after checking that it is
        exactly that difference); False: the replies must be equal."""
        return False

    # --- sessions -----------------------------------------------------------------------

    def store_session(self, user=ALICE):
        """Logged in to the store's pop3d (waiting out the lock of a session just dropped)."""
        conn = pf.login_retrying_in_use(self.sandbox.pop3_port, *user)
        self.addCleanup(conn.close)
        return conn

    def sessions(self, user=ALICE):
        """(popgate, store pop3d), logged in on one mailbox."""
        return self.gateway_session(*user), self.store_session(user)

    def ask(self, conn, command):
        return conn.cmd_multi(command) if is_multi(command) else conn.cmd(command)

    def assertSameReply(self, command, store, popgate):
        """STAT, LIST n, UIDL n whole; otherwise the status and a multi-line body."""
        if command == "STAT" or (re.fullmatch(r"(LIST|UIDL) \d+", command)
                                 and store.startswith(b"+OK")):
            self.assertEqual(popgate, store, command)
            return
        self.assertEqual(status(popgate), status(store),
                         f"{command}: store {store[:200]!r}, popgate {popgate[:200]!r}")
        if is_multi(command) and store.startswith(b"+OK"):
            # first_difference() only on a mismatch: it walks the 20 MB message in Python.
            if body(popgate) != body(store):
                self.fail(f"{command}: {pf.first_difference(body(store), body(popgate))}")

    def compare(self, gw, store, commands, message=None):
        for command in commands:
            with self.subTest(command=command):
                p = self.ask(gw, command)  # popgate first: the store's RETR may change flags
                s = self.ask(store, command)
                if message is None or not self.store_only_reply(message, command, s, p):
                    self.assertSameReply(command, s, p)

    def imap_subjects(self, user):
        conn = self.sandbox.imap(*user)
        try:
            typ, data = conn.select("INBOX", readonly=True)
            if int(data[0]) == 0:
                return []
            typ, data = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            return [subject(part[1]) for part in data if isinstance(part, tuple)]
        finally:
            conn.logout()

    # --- listings and messages ----------------------------------------------------------

    def test_stat_list_uidl(self):
        gw, store = self.sessions()
        self.compare(gw, store, ["STAT", "LIST", "UIDL"])

    def test_uidl_template_equals_the_preset(self):
        templated = self.start_gateway(self.config(self.UIDL_TEMPLATE), "template")
        gw = self.gateway_session(*ALICE, port=templated.port)
        store = self.store_session()
        self.compare(gw, store, ["UIDL", "UIDL 1", f"UIDL {len(self.messages)}"])

    def test_every_message(self):
        gw, store = self.sessions()
        for n in range(1, len(self.messages) + 1):
            self.compare(gw, store, [f"LIST {n}", f"UIDL {n}", f"RETR {n}", f"TOP {n} 0",
                                     f"TOP {n} 3"], message=n)

    def test_retr_is_the_stored_message(self):
        # Guards the comparison above: equal replies must also be the right bytes.
        gw = self.gateway_session(*ALICE)
        for n, raw in enumerate(self.messages, 1):
            with self.subTest(message=n, subject=subject(raw)):
                got, want = pf.unstuff(gw.cmd_multi(f"RETR {n}")), self.stored_form(raw)
                if got != want:
                    self.fail(pf.first_difference(want, got))

    def test_top_is_a_prefix_of_retr(self):
        gw = self.gateway_session(*ALICE)
        for n, raw in enumerate(self.messages, 1):
            retr = pf.unstuff(gw.cmd_multi(f"RETR {n}"))
            for lines in (0, 1, 3):
                with self.subTest(message=n, subject=subject(raw), lines=lines):
                    top = pf.unstuff(gw.cmd_multi(f"TOP {n} {lines}"))
                    self.assertTrue(retr.startswith(top), f"TOP {n} {lines} {top[-80:]!r} is not "
                                    f"a prefix of RETR {n} {retr[:len(top) + 20][-80:]!r}")

    def test_header_only_message(self):
        """Only header lines, no blank line: TOP n 0 and TOP n 3 are the whole message, the
        same as RETR, on popgate as on the store."""
        n = next(i for i, m in enumerate(self.messages, 1) if subject(m).startswith("header only"))
        gw, store = self.sessions()
        self.compare(gw, store, [f"RETR {n}", f"TOP {n} 0", f"TOP {n} 3"], message=n)
        retr = pf.unstuff(gw.cmd_multi(f"RETR {n}"))
        self.assertEqual(pf.unstuff(gw.cmd_multi(f"TOP {n} 0")), retr)
        self.assertEqual(pf.unstuff(gw.cmd_multi(f"TOP {n} 3")), retr)

    def test_error_and_state_replies(self):
        gw, store = self.sessions()
        self.compare(gw, store, ["LIST 99", "UIDL 99", "TOP 99 0", "RETR 99", "DELE 99",
                                 "RETR 0", "DELE 1", "DELE 1", "RETR 1", "LIST 1", "UIDL 1",
                                 "TOP 1 0", "STAT", "LIST", "UIDL", "NOOP", "RSET", "STAT",
                                 "RETR 1", "QUIT"])
        self.assertEqual(len(self.imap_subjects(ALICE)), len(self.messages))

    def test_wrong_password(self):
        gw, store = self.connect(), pf.RawPop3(self.sandbox.pop3_port)
        self.addCleanup(store.close)
        for conn in (gw, store):  # both PASS at once: Courier answers each after 5 s
            self.assertTrue(conn.cmd(f"USER {ALICE[0]}").startswith(b"+OK"))
            conn.send(f"PASS not-{ALICE[1]}")
        p, s = gw.read_line(), store.read_line()
        self.assertTrue(s.startswith(b"-ERR"), s)
        self.assertTrue(p.startswith(b"-ERR [AUTH]"), p)

    def test_quoted_and_8bit_passwords(self):
        for user in (BOB, DAVE):
            with self.subTest(user=user[0]):
                gw, store = self.sessions(user)
                self.compare(gw, store, ["STAT", "LIST", "UIDL", "QUIT"])

    # --- deleting -------------------------------------------------------------------------

    def fresh_small_mailbox(self):
        self.sandbox.clear(BOB[0])
        self.sandbox.seed(*BOB, SMALL)

    def run_on_both(self, commands, drop=False):
        """The same commands (then QUIT, or a dropped connection) on a fresh copy of bob's
        small mailbox through each server: [(server, replies, subjects left over IMAP,
        listings (STAT, UIDL) of a store pop3d session and a popgate session afterwards)]."""
        out = []
        for name in ("store", "popgate"):
            self.fresh_small_mailbox()
            conn = (self.gateway_session(*BOB) if name == "popgate" else self.store_session(BOB))
            replies = [status(self.ask(conn, c)) for c in commands]
            if drop:
                conn.sock.shutdown(socket.SHUT_RDWR)
                conn.close()
            else:
                replies.append(conn.cmd("QUIT"))
            pf.wait_until_free(self.port, *BOB)  # popgate's session is over
            after_gw, after_store = self.sessions(BOB)
            listings = [(self.ask(c, "STAT"), body(self.ask(c, "UIDL")))
                        for c in (after_store, after_gw)]
            after_gw.cmd("QUIT")
            after_store.cmd("QUIT")
            out.append((name, [status(r) for r in replies], self.imap_subjects(BOB), listings))
        return out

    def assertBothLeave(self, results, subjects):
        for name, replies, left, (store_listing, gw_listing) in results:
            with self.subTest(server=name):
                self.assertEqual(left, subjects)
                self.assertEqual(gw_listing, store_listing)
        self.assertEqual(results[0][1], results[1][1], "statuses of the commands")

    def test_dele_quit_removes_the_same_messages(self):
        results = self.run_on_both(["DELE 2", "DELE 4", "STAT"])
        self.assertBothLeave(results, ["small 1", "small 3", "small 5"])

    def test_rset_removes_nothing(self):
        results = self.run_on_both(["DELE 1", "DELE 2", "RSET", "STAT"])
        self.assertBothLeave(results, [f"small {n}" for n in range(1, 6)])

    def test_dropped_session_removes_nothing(self):
        results = self.run_on_both(["DELE 1", "DELE 3"], drop=True)
        self.assertBothLeave(results, [f"small {n}" for n in range(1, 6)])

    def test_flags_of_an_interrupted_deletion_are_cleared_at_login(self):
        """QUIT's UID STORE sets `\\Deleted $PopgateDeleting`; where no UID EXPUNGE followed
        (test_faults.py breaks the connection there), the next login removes both flags, and
        only where the keyword is: a `\\Deleted` that another client set stays."""
        self.fresh_small_mailbox()
        self.addCleanup(self.fresh_small_mailbox)
        conn = self.sandbox.imap(*BOB)
        try:
            self.assertEqual(conn.select("INBOX")[0], "OK")
            conn.store("1", "+FLAGS.SILENT", "(\\Deleted $PopgateDeleting)")
            conn.store("2", "+FLAGS.SILENT", "(\\Deleted)")
        finally:
            conn.logout()
        gw = self.gateway_session(*BOB)
        self.assertTrue(gw.cmd("STAT").startswith(b"+OK 5 "))
        self.assertTrue(gw.cmd("QUIT").startswith(b"+OK"))
        conn = self.sandbox.imap(*BOB)
        try:
            conn.select("INBOX", readonly=True)
            typ, data = conn.fetch("1:2", "(FLAGS)")
        finally:
            conn.logout()
        flags = [re.search(rb"FLAGS \(([^)]*)\)", item).group(1).split() for item in data]
        self.assertEqual([b"\\Deleted" in f or b"$PopgateDeleting" in f for f in flags],
                         [False, True], flags)

    # --- real clients: from the store's own POP3 to popgate ---------------------------------

    def mpop(self, port, uidls, maildir):
        pf.wait_until_free(self.port, *ALICE)
        return self.run_client([
            "mpop", "-q", "-C", "/dev/null", f"--host={pf.HOST}", f"--port={port}",
            f"--user={ALICE[0]}", f"--passwordeval=echo '{ALICE[1]}'", "--tls=off",
            "--auth=user", "--keep=on", "--only-new=on", f"--uidls-file={uidls}",
            f"--delivery=maildir,{maildir}", "--received-header=off"])

    def test_mpop_moves_to_popgate_without_downloading_again(self):
        maildir, uidls = self.tmpdir("mpop-maildir"), os.path.join(self.workdir, "mpop-uidls")
        for sub in ("cur", "new", "tmp"):
            os.mkdir(os.path.join(maildir, sub))
        new = os.path.join(maildir, "new")
        rc, out, err = self.mpop(self.sandbox.pop3_port, uidls, maildir)
        self.assertEqual(rc, 0, f"mpop on the store's pop3d: {out!r} {err!r}")
        names = os.listdir(new)
        self.assertEqual(len(names), len(self.messages))
        rc, out, err = self.mpop(self.port, uidls, maildir)
        self.assertEqual(rc, 0, f"mpop on popgate: {out!r} {err!r}")
        self.assertEqual(collections.Counter(os.listdir(new)), collections.Counter(names),
                         "mpop downloaded again from popgate")

    def fetchmail(self, port, idfile, outdir):
        deliver = os.path.join(self.workdir, "deliver.py")
        with open(deliver, "w") as f:  # fetchmail runs the MDA once per message, in order
            f.write("import os, sys\nd = sys.argv[1]\n"
                    "with open(os.path.join(d, '%06d' % (len(os.listdir(d)) + 1)), 'wb') as f:\n"
                    "    f.write(sys.stdin.buffer.read())\n")
        rc = (f"set invisible\n"
              f"poll {pf.HOST} service {port} protocol pop3 uidl timeout 120\n"
              f'  user "{ALICE[0]}" there with password "{ALICE[1]}" is "root" here\n'
              f"  keep no rewrite sslproto ''\n"
              f'  mda "/usr/bin/python3 {deliver} {outdir}"\n')
        home = os.path.join(self.workdir, f"fetchmail-home-{port}")
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ, HOME=home, FETCHMAILHOME=home)
        pf.wait_until_free(self.port, *ALICE)
        return self.run_client(["fetchmail", "-f", "-", "--nodetach", "--nosyslog", "-i", idfile,
                                "--pidfile", os.path.join(home, "fetchmail.pid")],
                               rc.encode(), env)

    def test_fetchmail_moves_to_popgate_without_downloading_again(self):
        outdir, idfile = self.tmpdir("fetchmail-out"), os.path.join(self.workdir, "fetchids")
        rc, out, err = self.fetchmail(self.sandbox.pop3_port, idfile, outdir)
        self.assertEqual(rc, 0, f"fetchmail on the store's pop3d: {out!r} {err!r}")
        self.assertEqual(len(os.listdir(outdir)), len(self.messages))
        rc, out, err = self.fetchmail(self.port, idfile, outdir)
        # Exit code 1: no new mail.
        self.assertEqual(rc, 1, f"fetchmail on popgate: {out!r} {err!r}")
        self.assertEqual(len(os.listdir(outdir)), len(self.messages),
                         "fetchmail downloaded again from popgate")
