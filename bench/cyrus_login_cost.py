#!/usr/bin/env python3
"""Where popgate's time goes on Cyrus: each upstream exchange of a POP3 session, over IMAP and
over JMAP, timed one at a time, with the CPU the whole Cyrus instance spent on it.

A Cyrus sandbox (bench/benchlib/cyrus.py's store) holds one poll mailbox (500 messages of 2-8
KB) and one bulk mailbox (100 messages, the benchmark's mix), seeded as the benchmark seeds
them. A client sends what popgate sends, one exchange at a time, ROUNDS times each:

  imap-login   connect, greeting, LOGIN + EXAMINE INBOX + UID FETCH 1:* (UID RFC822.SIZE) in
               one write (popgate pipelines them), LOGOUT: popgate's whole IMAP poll session
  jmap-session GET /jmap/ (the session resource: once per user, then cached by popgate)
  jmap-mailbox POST Mailbox/query role inbox (the same: once per user)
  jmap-list    POST Email/query (inMailbox, receivedAt ascending, calculateTotal) + Email/get
               (id, blobId, size) by back-reference: every POP3 login over JMAP
  jmap-querychanges  POST Email/queryChanges (the same filter and sort, sinceQueryState of a
               listing, calculateTotal) of an unchanged mailbox: what a login could send instead
               if popgate kept each user's snapshot and its queryState
  jmap-changes POST Email/changes (sinceState of a listing's Email/get) of an unchanged account
  imap-retr    UID FETCH n BODY.PEEK[] for each of the 100 bulk messages, one at a time
  jmap-retr    GET downloadUrl for each of the 100 bulk messages, one at a time
  jmap-retr4   the same downloads four at a time on four kept-alive connections, as popgate's
               read-ahead has them in flight (a store that serializes one user's downloads
               shows it here: Cyrus's default skiplist conversations.db did, see
               docs/performance-stores.md)

HTTP goes over one kept-alive connection, as popgate's pool keeps it. Wall time is the
client's; Cyrus CPU is utime+stime over Cyrus's process tree (/proc), per exchange or per GB.

    sudo bench/cyrus_login_cost.py [ROUNDS]     # default 40

CONVERSATIONS_DB=skiplist in the environment runs Cyrus with that conversations_db instead of
the sandbox's twoskip (skiplist is Cyrus 3.6's default), to measure the difference.
"""

import base64
import json
import os
import re
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import corpus, cyrus, procstat, services  # noqa: E402

USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]


class Conn:
    """A TCP connection to Cyrus (TCP_NODELAY, as popgate sets it). With `quickack`, every read
    is preceded by TCP_QUICKACK, so our ACKs leave at once instead of up to 40 ms later."""

    def __init__(self, port, quickack):
        self.sock = socket.create_connection((services.HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.quickack, self.buf = quickack, b""

    def _more(self):
        if self.quickack:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        data = self.sock.recv(262144)
        if not data:
            raise RuntimeError("Cyrus closed the connection")
        self.buf += data

    def until(self, marker):
        """Everything up to and including `marker`."""
        while marker not in self.buf:
            self._more()
        end = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def take(self, n):
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def close(self):
        self.sock.close()


def imap_login(port, user, password, quickack):
    """popgate's IMAP poll session: LOGIN, EXAMINE and the snapshot FETCH in one write."""
    c = Conn(port, quickack)
    c.until(b"\r\n")
    c.sock.sendall(f'a LOGIN "{user}" "{password}"\r\nb EXAMINE INBOX\r\n'
                   "c UID FETCH 1:* (UID RFC822.SIZE)\r\nd LOGOUT\r\n".encode())
    c.until(b"\r\nd OK")
    c.close()


def imap_retr(port, user, password, count, quickack):
    """UID FETCH n BODY.PEEK[] of messages 1..count, each sent after the previous answer."""
    c = Conn(port, quickack)
    c.until(b"\r\n")
    c.sock.sendall(f'a LOGIN "{user}" "{password}"\r\nb EXAMINE INBOX\r\n'.encode())
    c.until(b"\r\nb OK")
    total = 0
    for uid in range(1, count + 1):
        c.sock.sendall(b"f%d UID FETCH %d (BODY.PEEK[])\r\n" % (uid, uid))
        head = c.until(b"}\r\n")
        n = int(head.rsplit(b"{", 1)[1][:-3])
        total += len(c.take(n))
        c.until(b"\r\nf%d OK" % uid)
    c.close()
    return total


class Jmap:
    """HTTP/1.1 on one kept-alive connection, one request at a time (as popgate's pool)."""

    def __init__(self, port, user, password, quickack):
        self.conn = Conn(port, quickack)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.head = f"Host: {services.HOST}:{port}\r\nAuthorization: Basic {token}\r\n"
        self.account = user

    def request(self, method, path, body=None):
        extra = ""
        if body is not None:
            body = json.dumps(body).encode()
            extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.conn.sock.sendall(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode()
                               + (body or b""))
        return self.response()

    def response(self):
        head = self.conn.until(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"answer: {head[:100]!r}")
        length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
        return self.conn.take(length)

    def call(self, calls):
        return json.loads(self.request("POST", "/jmap/", {"using": USING, "methodCalls": calls}))

    def inbox(self):
        r = self.call([["Mailbox/query", {"accountId": self.account,
                                          "filter": {"role": "inbox"}}, "m"]])
        return r["methodResponses"][0][1]["ids"][0]

    def listing(self, mailbox):
        return self.call([
            ["Email/query", {"accountId": self.account, "filter": {"inMailbox": mailbox},
                             "sort": [{"property": "receivedAt", "isAscending": True}],
                             "position": 0, "limit": 4096, "calculateTotal": True}, "q"],
            ["Email/get", {"accountId": self.account, "properties": ["id", "blobId", "size"],
                           "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"}},
             "g"]])["methodResponses"][1][1]["list"]

    QUERY_ARGS = {"sort": [{"property": "receivedAt", "isAscending": True}],
                  "calculateTotal": True}

    def query_state(self, mailbox):
        r = self.call([["Email/query", dict(self.QUERY_ARGS, accountId=self.account,
                                            filter={"inMailbox": mailbox}, limit=1), "q"],
                       ["Email/get", {"accountId": self.account, "ids": [],
                                      "properties": ["id"]}, "g"]])["methodResponses"]
        return r[0][1]["queryState"], r[1][1]["state"]

    def query_changes(self, mailbox, since):
        r = self.call([["Email/queryChanges", dict(self.QUERY_ARGS, accountId=self.account,
                                                   filter={"inMailbox": mailbox},
                                                   sinceQueryState=since), "c"]])
        return r["methodResponses"][0]  # an error answer is measured too, and printed

    def changes(self, since):
        r = self.call([["Email/changes", {"accountId": self.account, "sinceState": since}, "c"]])
        return r["methodResponses"][0]

    def download(self, blob):
        self.send_download(blob)
        return self.response()

    def send_download(self, blob):
        self.conn.sock.sendall(f"GET /jmap/download/{self.account}/{blob}/m.eml"
                               f"?accept=message/rfc822 HTTP/1.1\r\n{self.head}\r\n".encode())


def downloads_in_parallel(conns, blobs):
    """Each round sends one download on every connection, then reads the answers."""
    total = 0
    for start in range(0, len(blobs), len(conns)):
        batch = list(zip(conns, blobs[start:start + len(conns)]))
        for conn, blob in batch:
            conn.send_download(blob)
        total += sum(len(conn.response()) for conn, _ in batch)
    return total


def measure(name, rounds, store, work, unit=None):
    """Runs work() `rounds` times; prints wall ms and Cyrus CPU ms per round (or per GB)."""
    tree = procstat.Target("cyrus", [store.proc.pid])
    cpu0, t0, amount = tree.cpu(), time.monotonic(), 0
    walls = []
    for _ in range(rounds):
        t = time.monotonic()
        result = work()
        amount += result if isinstance(result, int) else 0
        walls.append(time.monotonic() - t)
    wall, cpu = time.monotonic() - t0, tree.cpu() - cpu0
    walls.sort()
    line = (f"{name:22s} wall p50 {1e3 * walls[len(walls) // 2]:7.2f} ms, mean "
            f"{1e3 * wall / rounds:7.2f} ms; Cyrus CPU {1e3 * cpu / rounds:6.2f} ms per round")
    if unit == "GB":
        line += (f"; {amount / 1e6 / wall:6.1f} MB/s, Cyrus {cpu / (amount / 1e9):6.2f} s/GB "
                 f"({amount / rounds / 1e6:.1f} MB per round)")
    print(line, flush=True)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    if os.environ.get("CONVERSATIONS_DB"):
        sandbox = cyrus.cyrus_sandbox
        sandbox.IMAPD_CONF = sandbox.IMAPD_CONF.replace(
            "conversations_db: twoskip", "conversations_db: " + os.environ["CONVERSATIONS_DB"])
    work = tempfile.mkdtemp(prefix="popgate-cyrus-cost-")
    os.chmod(work, 0o755)
    poll, bulk = ("poll001", corpus.PASSWORD), ("bulk001", corpus.PASSWORD)
    side = cyrus.CyrusSide.__new__(cyrus.CyrusSide)
    side.users = dict([poll, bulk])
    side.store = store = cyrus.CyrusStore(os.path.join(work, "store"), side.users)
    try:
        store.start()
        poll_mail, bulk_mail, _ = corpus.mailboxes(100)
        print(f"seeded: {side.seed({poll[0]: poll_mail, bulk[0]: bulk_mail})}", flush=True)
        port, http_port = store.imap_port, store.http_port
        retr_rounds = max(rounds // 10, 2)
        for quick in (False, True):
            q = "+quickack" if quick else ""
            measure("imap-login" + q, rounds, store, lambda: imap_login(port, *poll, quick))
            jp = Jmap(http_port, *poll, quick)
            measure("jmap-session" + q, rounds, store, lambda: jp.request("GET", "/jmap/"))
            measure("jmap-mailbox" + q, rounds, store, jp.inbox)
            inbox = jp.inbox()
            measure("jmap-list" + q, rounds, store, lambda: jp.listing(inbox))
            query_state, email_state = jp.query_state(inbox)
            for answer in (jp.query_changes(inbox, query_state), jp.changes(email_state)):
                print(f"  answered: {json.dumps(answer)[:200]}", flush=True)
            measure("jmap-querychanges" + q, rounds, store,
                    lambda: jp.query_changes(inbox, query_state))
            measure("jmap-changes" + q, rounds, store, lambda: jp.changes(email_state))
            jb = Jmap(http_port, *bulk, quick)
            blobs = [e["blobId"] for e in jb.listing(jb.inbox())]
            measure("imap-retr" + q, retr_rounds, store,
                    lambda: imap_retr(port, *bulk, len(blobs), quick), "GB")
            measure("jmap-retr" + q, retr_rounds, store,
                    lambda: sum(len(jb.download(b)) for b in blobs), "GB")
            four = [jb] + [Jmap(http_port, *bulk, quick) for _ in range(3)]
            measure("jmap-retr4" + q, retr_rounds, store,
                    lambda: downloads_in_parallel(four, blobs), "GB")
    finally:
        store.stop()


if __name__ == "__main__":
    main()
