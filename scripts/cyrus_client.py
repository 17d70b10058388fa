"""Mail, HTTP and JMAP helpers of a running Cyrus sandbox (scripts/cyrus_sandbox.py): IMAP
logins, seeding and clearing mailboxes, one HTTP request, a JMAP call, a blob download.
Standard library only."""

import base64
import http.client
import imaplib
import json
import ssl
import time

from dovecot_sandbox import HOST, USERS
from imap_helpers import clear_mailbox

# 2026-01-01T00:00:00Z: seeded messages are dated from here, a minute apart (see seed()).
SEED_EPOCH = 1767225600
JMAP_USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]


class CyrusClient:
    """Mixed into Sandbox: needs imap_port, http_port and tls (None, or a (cert, key) pair)."""

    def imap(self, user, password=None):
        """A logged-in imaplib connection (AUTHENTICATE PLAIN takes the 8-bit and quote-laden
        passwords as they are)."""
        password = USERS[user] if password is None else password
        conn = imaplib.IMAP4(HOST, self.imap_port, timeout=60)
        token = b"\0" + user.encode() + b"\0" + password.encode()
        try:
            conn.authenticate("PLAIN", lambda _challenge: token)
        except BaseException:
            conn.shutdown()
            raise
        return conn

    def seed(self, user, password, messages, mailbox="INBOX"):
        """APPEND each raw message (bytes, sent unmodified). Cyrus refuses messages with a bare
        LF ("NO Message contains bare newlines"): that raises here. Each message gets its own
        INTERNALDATE, a minute after the one before: JMAP sorts by receivedAt (whole seconds),
        and Cyrus breaks ties by arrival *descending*, so messages appended within one second
        would come back in another order than IMAP's and POP3's UIDs."""
        conn = self.imap(user, password)
        try:
            for raw in messages:
                self._appended = getattr(self, "_appended", 0) + 1
                stamp = time.gmtime(SEED_EPOCH + 60 * self._appended)
                date = time.strftime('"%d-%b-%Y %H:%M:%S +0000"', stamp)
                # imaplib.append() rewrites line ends: send the literal ourselves.
                conn.literal = raw
                typ, data = conn._simple_command("APPEND", mailbox, date)
                if typ != "OK":
                    raise RuntimeError(f"APPEND failed: {typ} {data}")
        finally:
            conn.logout()

    def clear(self, user, mailbox="INBOX"):
        """Empty a mailbox of the user's (tests that delete start from a known mailbox)."""
        clear_mailbox(self.imap(user), mailbox)

    def create_trash(self, user, name="Trash"):
        """A mailbox with the \\Trash special use (JMAP role "trash"); none exists by default.
        Idempotent."""
        conn = self.imap(user)
        try:
            typ, data = conn.list('""', name)
            if typ == "OK" and data and data[0]:
                return
            typ, data = conn._simple_command("CREATE", name, "(USE (\\Trash))")
            if typ != "OK":
                raise RuntimeError(f"CREATE {name} failed: {data}")
        finally:
            conn.logout()

    def http(self, method, path, body=None, user=None, password=None, headers=None, timeout=60):
        """One request on a fresh connection: (status, headers as a list of pairs, body).
        Over https when the sandbox has TLS (the certificate is not verified here)."""
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(HOST, self.http_port, timeout=timeout, context=ctx)
        else:
            conn = http.client.HTTPConnection(HOST, self.http_port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            if user is not None:
                password = USERS[user] if password is None else password
                token = base64.b64encode(f"{user}:{password}".encode()).decode()
                hdrs["Authorization"] = "Basic " + token
            if body is not None and not isinstance(body, bytes):
                body = json.dumps(body).encode()
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def jmap_session(self, user, password=None):
        status, _, body = self.http("GET", "/jmap/", user=user, password=password)
        if status != 200:
            raise RuntimeError(f"JMAP session for {user}: HTTP {status}")
        return json.loads(body)

    def jmap(self, user, method_calls, password=None, using=None):
        """POST one JMAP request (to apiUrl, /jmap/); returns the methodResponses list."""
        status, _, body = self.http("POST", "/jmap/", {"using": using or JMAP_USING,
                                                        "methodCalls": method_calls},
                                    user=user, password=password)
        if status != 200:
            raise RuntimeError(f"JMAP request for {user}: HTTP {status}: {body[:500]!r}")
        return json.loads(body)["methodResponses"]

    def download(self, user, blob_id, password=None, name="message.eml",
                 mime="message/rfc822"):
        """The blob's bytes, through the session's downloadUrl template."""
        path = f"/jmap/download/{user}/{blob_id}/{name}?accept={mime}"
        status, _, body = self.http("GET", path, user=user, password=password)
        if status != 200:
            raise RuntimeError(f"download {blob_id} for {user}: HTTP {status}")
        return body
