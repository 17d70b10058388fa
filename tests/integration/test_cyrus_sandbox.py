"""The Cyrus sandbox (scripts/cyrus_sandbox.py) itself: real logins on IMAP, POP3 and JMAP, and
the same bytes through all three. No popgate here; this pins the facts the JMAP backend and the
benchmark rely on (see the comment block at the top of cyrus_sandbox.py)."""

import base64
import glob
import http.client
import imaplib
import json
import os
import poplib
import re
import shutil
import socket
import ssl
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))

import cyrus_sandbox as cs  # noqa: E402
import tls_certs  # noqa: E402  (tests/integration)
from dovecot_sandbox import _msg, big_message  # noqa: E402

ALICE, BOB, CAROL, DAVE = cs.ALICE, cs.BOB, cs.CAROL, cs.DAVE


def corpus():
    """Byte-distinct messages (Cyrus keys JMAP Emails by content: identical bytes would be one
    Email) without bare LF (Cyrus refuses those on APPEND)."""
    return [
        _msg(b"normal", b"Hello Alice,\r\n\r\nthis is a plain message.\r\n"),
        _msg(b"dots", b".hidden\r\n..double\r\n.\r\nafter the dot line\r\n"),
        _msg(b"no final crlf", b"first line\r\nlast line without newline"),
        _msg(b"eight bit", b"latin-1: caf\xe9\r\nutf-8: caf\xc3\xa9 \xe2\x82\xac\r\n",
             b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"),
        _msg(b"long line", b"x" * 9999 + b".\r\nshort\r\n"),
        _msg(b"bare cr", b"before\rafter on the same line\r\n"),
        _msg(b"empty body", b""),
        big_message(1),
    ]


class SandboxTestCase(unittest.TestCase):
    """Stops the class's sandbox; shows Cyrus's log under a failing test."""

    sandbox = None

    @classmethod
    def tearDownClass(cls):
        if cls.sandbox is not None:
            cls.sandbox.stop()
        if os.environ.get("POPGATE_KEEP_TMP") != "1":
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def run(self, result=None):
        """On a failure, show what Cyrus logged (it logs only to syslog; the sandbox catches it)."""
        before = len(result.failures) + len(result.errors) if result is not None else 0
        result = super().run(result)
        if result is not None and self.sandbox is not None and \
                len(result.failures) + len(result.errors) > before:
            sys.stderr.write(f"--- Cyrus log ({self.sandbox.log_path}), last lines:\n"
                             + "\n".join(self.sandbox.log_text().splitlines()[-40:]) + "\n")
        return result


class CyrusSandboxTest(SandboxTestCase):

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix=f"popgate-{cls.__name__}-")
        os.chmod(cls.workdir, 0o755)
        cls.sandbox = None
        try:
            cls.sandbox = cs.Sandbox(os.path.join(cls.workdir, "cyrus")).start()
            cls.messages = corpus()
            cls.sandbox.seed(*ALICE, cls.messages)
        except BaseException:
            cls.tearDownClass()
            raise

    def imap_messages(self, user=ALICE[0]):
        """{EMAILID: (uid, RFC822.SIZE, BODY.PEEK[] bytes)} of the user's INBOX."""
        conn = self.sandbox.imap(user)
        self.addCleanup(conn.logout)
        typ, _ = conn.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")
        typ, data = conn.uid("FETCH", "1:*", "(UID RFC822.SIZE EMAILID BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        out = {}
        for item in data:
            if isinstance(item, tuple):
                m = re.search(rb"UID (\d+).*RFC822\.SIZE (\d+).*EMAILID \((\w+)\)", item[0])
                out[m.group(3).decode()] = (int(m.group(1)), int(m.group(2)), item[1])
        return out

    # --- IMAP ---------------------------------------------------------------------------

    def test_imap_logins(self):
        for user, password in (ALICE, BOB, CAROL, DAVE):
            with self.subTest(user=user):
                self.sandbox.imap(user, password).logout()
        # LOGIN with quoted strings too (not only AUTHENTICATE PLAIN).
        conn = imaplib.IMAP4(cs.HOST, self.sandbox.imap_port, timeout=30)
        self.assertEqual(conn.login(*ALICE)[0], "OK")
        conn.logout()

    def test_imap_wrong_password_fails(self):
        for user, password in ((ALICE[0], "wrong"), (DAVE[0], "passwort"), ("nobody", "x")):
            with self.subTest(user=user):
                with self.assertRaises(imaplib.IMAP4.error):
                    self.sandbox.imap(user, password)

    def test_imap_has_the_seeded_bytes(self):
        stored = sorted(self.imap_messages().values())
        self.assertEqual([body for _, _, body in stored], self.messages)
        self.assertEqual([size for _, size, _ in stored], [len(m) for m in self.messages])

    # --- Cyrus's own POP3 ---------------------------------------------------------------

    def pop3(self, user, password):
        conn = poplib.POP3(cs.HOST, self.sandbox.pop3_port, timeout=60)
        self.addCleanup(conn.close)
        conn.user(user)
        conn.pass_(password)
        return conn

    def test_pop3_stat_list_retr_uidl(self):
        old_maxline, poplib._MAXLINE = poplib._MAXLINE, 1 << 16  # the 10,000-byte line
        self.addCleanup(setattr, poplib, "_MAXLINE", old_maxline)
        conn = self.pop3(*ALICE)
        self.assertEqual(conn.stat(), (len(self.messages), sum(len(m) for m in self.messages)))
        _, listing, _ = conn.list()
        self.assertEqual(listing, [b"%d %d" % (n, len(m))
                                   for n, m in enumerate(self.messages, 1)])
        uids = [uid for uid, _, _ in sorted(self.imap_messages().values())]
        _, uidls, _ = conn.uidl()
        for n, (line, uid) in enumerate(zip(uidls, uids), 1):
            # Cyrus pop3d: "<uidvalidity>.<uid>"
            self.assertRegex(line, rb"^%d \d+\.%d$" % (n, uid))
        for n, raw in enumerate(self.messages, 1):
            with self.subTest(message=n):
                _, lines, _ = conn.retr(n)  # dot-unstuffed by poplib
                got = b"\r\n".join(lines)
                # A message without a final CRLF gets one before the terminating dot.
                self.assertEqual(got + b"\r\n" if raw.endswith(b"\r\n") else got, raw)
        conn.quit()

    def test_pop3_logins(self):
        for user, password in (BOB, CAROL, DAVE):
            with self.subTest(user=user):
                self.pop3(user, password).quit()

    def test_pop3_wrong_password_fails(self):
        conn = poplib.POP3(cs.HOST, self.sandbox.pop3_port, timeout=30)
        self.addCleanup(conn.close)
        conn.user(ALICE[0])
        with self.assertRaisesRegex(poplib.error_proto, r"-ERR"):
            conn.pass_("wrong")

    # --- JMAP -----------------------------------------------------------------------------

    def test_jmap_session(self):
        session = self.sandbox.jmap_session(ALICE[0])
        self.assertEqual(session["apiUrl"], "/jmap/")
        self.assertEqual(session["downloadUrl"],
                         "/jmap/download/{accountId}/{blobId}/{name}?accept={type}")
        self.assertEqual(session["primaryAccounts"]["urn:ietf:params:jmap:mail"], ALICE[0])
        self.assertIn("urn:ietf:params:jmap:mail", session["capabilities"])
        core = session["capabilities"]["urn:ietf:params:jmap:core"]
        self.assertGreaterEqual(core["maxObjectsInGet"], 500)
        for user in (BOB[0], CAROL[0], DAVE[0]):
            with self.subTest(user=user):
                self.assertEqual(self.sandbox.jmap_session(user)["username"], user)
        inbox = self.sandbox.jmap(ALICE[0], [
            ["Mailbox/query", {"accountId": ALICE[0], "filter": {"role": "inbox"}}, "m"]])
        self.assertEqual(len(inbox[0][1]["ids"]), 1)
        # Each API request asks the SMTP backend for its capabilities: a refused loopback
        # connection (smtp_host 127.0.0.1:1), never a fork of a missing sendmail (~23 ms each).
        # Only where syslog is captured (unshare + mount); the listener writes in its thread.
        deadline = time.monotonic() + 3
        log = self.sandbox.log_text()
        while "127.0.0.1:1" not in log and "User logged in" in log and time.monotonic() < deadline:
            time.sleep(0.05)
            log = self.sandbox.log_text()
        if "User logged in" in log:
            self.assertIn("can't connect to host: 127.0.0.1:1", log)
            self.assertNotIn("sendmail", log)

    def test_conversations_db_is_twoskip(self):
        # Cyrus's JMAP guide asks for conversations_db: twoskip; the 3.6 default (skiplist)
        # locks each user's conversations.db exclusively for every JMAP request and download.
        self.sandbox.jmap_session(ALICE[0])
        paths = glob.glob(os.path.join(self.sandbox.dir, "conf", "user", "**",
                                       "conversations.db"), recursive=True)
        self.assertTrue(paths)
        for path in paths:
            with open(path, "rb") as f:
                self.assertEqual(f.read(20), b"\xa1\x02\x8b\x0dtwoskip file\0\0\0\0", path)

    def test_jmap_query_get_download_equal_imap(self):
        user = ALICE[0]
        responses = self.sandbox.jmap(user, [
            ["Email/query", {"accountId": user,
                             "sort": [{"property": "receivedAt", "isAscending": True}]}, "q"],
            ["Email/get", {"accountId": user,
                           "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                           "properties": ["id", "blobId", "size"]}, "g"],
        ])
        self.assertEqual([r[0] for r in responses], ["Email/query", "Email/get"])
        emails = responses[1][1]["list"]
        self.assertEqual([e["id"] for e in emails], responses[0][1]["ids"])
        imap = self.imap_messages()
        self.assertEqual(sorted(e["id"] for e in emails), sorted(imap))
        for email in emails:
            with self.subTest(id=email["id"]):
                self.assertRegex(email["id"], r"^M[0-9a-f]{24}$")
                _, size, body = imap[email["id"]]
                blob = self.sandbox.download(user, email["blobId"])
                self.assertEqual(email["size"], size)
                self.assertEqual(len(blob), email["size"])
                self.assertEqual(blob, body)
                self.assertIn(blob, self.messages)

    def test_jmap_wrong_password_is_401(self):
        for method, body in (("GET", None), ("POST", {"using": cs.JMAP_USING, "methodCalls": []})):
            with self.subTest(method=method):
                status, headers, _ = self.sandbox.http(method, "/jmap/", body, user=ALICE[0],
                                                       password="wrong")
                self.assertEqual(status, 401)
                self.assertIn(("WWW-Authenticate", 'Basic realm="localhost"'), headers)
        status, _, _ = self.sandbox.http("GET", "/jmap/")
        self.assertEqual(status, 401)

    def test_trash_role_and_destroy(self):
        """bob: no trash by default; CREATE ... (USE (\\Trash)) gives role "trash"; Email/set
        destroy removes the message from IMAP."""
        user = BOB[0]
        query_trash = ["Mailbox/query", {"accountId": user, "filter": {"role": "trash"}}, "t"]
        self.assertEqual(self.sandbox.jmap(user, [query_trash])[0][1]["ids"], [])
        self.sandbox.create_trash(user)
        self.assertEqual(len(self.sandbox.jmap(user, [query_trash])[0][1]["ids"]), 1)

        self.sandbox.clear(user)
        self.sandbox.seed(*BOB, [_msg(b"destroy me", b"bye\r\n"), _msg(b"keep me", b"hi\r\n")])
        imap = self.imap_messages(user)
        victim = min(imap, key=lambda eid: imap[eid][0])
        r = self.sandbox.jmap(user, [["Email/set", {"accountId": user, "destroy": [victim]}, "d"]])
        self.assertEqual(r[0][1]["destroyed"], [victim])
        self.assertEqual(list(self.imap_messages(user)), [eid for eid in imap if eid != victim])


class CyrusSandboxTlsTest(SandboxTestCase):
    """Sandbox(tls=(cert, key)): the HTTP port speaks https only, with the given certificate."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix=f"popgate-{cls.__name__}-")
        os.chmod(cls.workdir, 0o755)
        cls.sandbox = None
        try:
            cls.certs = tls_certs.server_set(os.path.join(cls.workdir, "certs"))
            server = cls.certs["server"]
            cls.sandbox = cs.Sandbox(os.path.join(cls.workdir, "cyrus"),
                                     tls=(server.cert, server.key)).start()
        except BaseException:
            cls.tearDownClass()
            raise

    def context(self, alpn=None):
        ctx = ssl.create_default_context(cafile=self.certs["ca"].cert)
        if alpn:
            ctx.set_alpn_protocols(alpn)
        return ctx

    def test_https_jmap_session_verified_by_ip_and_name(self):
        self.assertEqual(self.sandbox.jmap_url, f"https://127.0.0.1:{self.sandbox.http_port}/jmap/")
        for host in ("127.0.0.1", "localhost"):
            with self.subTest(host=host):
                conn = http.client.HTTPSConnection(host, self.sandbox.http_port, timeout=30,
                                                   context=self.context())
                self.addCleanup(conn.close)
                token = base64.b64encode(f"{ALICE[0]}:{ALICE[1]}".encode()).decode()
                conn.request("GET", "/jmap/", headers={"Authorization": "Basic " + token})
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                self.assertEqual(json.loads(resp.read())["apiUrl"], "/jmap/")
        # The sandbox's own helpers speak https too.
        self.assertEqual(self.sandbox.jmap_session(ALICE[0])["username"], ALICE[0])
        self.assertIn(f"] {ALICE[0]} Basic+TLS User logged in", self.sandbox.log_text())

    def test_alpn_h2_only_when_offered(self):
        for alpn, want in ((None, None), (["http/1.1"], "http/1.1"), (["h2", "http/1.1"], "h2")):
            with self.subTest(alpn=alpn):
                raw = socket.create_connection((cs.HOST, self.sandbox.http_port), timeout=30)
                with self.context(alpn).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    self.assertEqual(tls.selected_alpn_protocol(), want)

    def test_plain_request_on_https_port_is_refused(self):
        with socket.create_connection((cs.HOST, self.sandbox.http_port), timeout=30) as sock:
            sock.sendall(b"GET /jmap/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.0 500 "), data)
        self.assertIn(b"Error negotiating TLS", data)


if __name__ == "__main__":
    unittest.main()
