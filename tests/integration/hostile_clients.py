"""Hostile POP3 clients for test_hostile.py: floods of idle connections, slowloris clients, a
reader of everything until the server closes, the first flight of a TLS handshake; and the
measurements (popgate's CPU time, a normal user's session) the tests report."""

import os
import resource
import select
import selectors
import socket
import ssl
import threading
import time
import unittest

import popgate_fixture as pf

CLOSE_WAIT_S = 120  # ends as soon as every connection is closed
# Peak RSS growth of one hostile scenario; ASan's quarantine holds freed buffers.
MAX_GROWTH_KIB = 16 * 1024
MAX_GROWTH_KIB_ASAN = 128 * 1024


def raise_descriptor_limit(needed):
    """A flood test holds `needed` sockets, and so does popgate (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
        except (ValueError, OSError):
            raise unittest.SkipTest(f"RLIMIT_NOFILE hard limit {hard} < {needed}") from None
    elif soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def read_line(sock):
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed before a line; got {data!r}")
        data += chunk
    return data


def open_idle(port, count, sources):
    """`count` connections spread over `sources`, each greeted; returns (sockets, greetings)."""
    socks, greetings = [], []
    try:
        for n in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.settimeout(pf.IO_TIMEOUT_S)
            sock.bind((sources[n % len(sources)], 0))
            sock.connect((pf.HOST, port))
            greetings.append(read_line(sock))
    except BaseException:
        close_all(socks)
        raise
    return socks, greetings


def close_all(socks):
    for sock in socks:
        sock.close()


def wait_all_closed(socks, timeout_s=CLOSE_WAIT_S):
    """Reads every socket until the server closes it (EOF or reset). Returns what each one got
    and how many were still open at the deadline."""
    received = {sock: b"" for sock in socks}
    selector = selectors.DefaultSelector()
    for sock in socks:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    still_open, deadline = len(socks), time.monotonic() + timeout_s
    while still_open and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                data = b""
            if data:
                received[key.fileobj] += data
                continue
            selector.unregister(key.fileobj)
            still_open -= 1
    selector.close()
    return [received[sock] for sock in socks], still_open


def cpu_s(pid):
    """User plus system CPU time of a process so far, in seconds (reported, not asserted)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def growth_bound(pid):
    return MAX_GROWTH_KIB_ASAN if pf.sanitized(pid) else MAX_GROWTH_KIB


def download_all(test, conn, messages):
    """A normal user's session: STAT, then every message byte for byte."""
    test.assertTrue(conn.cmd("STAT").startswith(b"+OK %d " % len(messages)))
    for n, raw in enumerate(messages, 1):
        reply = conn.cmd_multi(f"RETR {n}")
        test.assertTrue(pf.unstuff(reply) == pf.pop3_form(raw),
                        f"message {n}: {pf.first_difference(pf.pop3_form(raw), pf.unstuff(reply))}")
    test.assertEqual(conn.cmd("QUIT"), b"+OK Logging out.\r\n")


class Slowloris(threading.Thread):
    """Sends a line that never ends, one byte a second, until the server closes the connection."""

    def __init__(self, port, source):
        super().__init__(daemon=True)
        self.conn = pf.RawPop3(port, source=source)
        self.sent, self.closed = 0, False

    def run(self):
        sock = self.conn.sock
        for _ in range(CLOSE_WAIT_S):
            readable, _, _ = select.select([sock], [], [], 1.0)
            try:
                if readable:
                    data = sock.recv(4096)
                    if not data:
                        self.closed = True
                        return
                    self.conn.buf += data
                sock.send(b"USER slow"[self.sent % 9:][:1])
                self.sent += 1
            except (ConnectionResetError, BrokenPipeError):
                self.closed = True
                return


def client_hello():
    """The first flight of a real TLS client, for a handshake that never goes further."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()
