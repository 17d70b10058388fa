"""A POP3 client for the integration tests that returns every reply byte for byte (RawPop3),
the forms a message takes on the way (as stored, as RETR carries it, unstuffed), and logins
that wait out a mailbox lock a dropped session still holds. Standard library only."""

import re
import socket
import time

from dovecot_sandbox import HOST  # popgate_fixture put scripts/ on the path

IO_TIMEOUT_S = 30  # per recv(); a reply that never ends fails instead of hanging
TERMINATOR = b"\r\n.\r\n"


# --- what a POP3 server sends ---------------------------------------------------------------

def stored_form(raw):
    """The message as Dovecot serves it over IMAP and counts it in LIST/RFC822.SIZE:
    bare LF becomes CRLF, a bare CR stays, a missing final CRLF stays missing."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", raw)


def pop3_form(raw):
    """RETR's content after dot-unstuffing: the stored form plus the CRLF that POP3 adds
    before the terminating '.' when the message does not end in one."""
    data = stored_form(raw)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def unstuff(reply):
    """Content of a multi-line +OK reply: status line, terminator and dot-stuffing removed."""
    body = reply[reply.index(b"\r\n") + 2:-3]
    return re.sub(rb"(^|\r\n)\.", rb"\1", body)


def first_difference(a, b):
    """Human-readable description of where two byte strings diverge."""
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return (f"lengths {len(a)} vs {len(b)}, first difference at offset {n}:\n"
            f"  expected ...{a[max(n - 40, 0):n + 40]!r}\n"
            f"  actual   ...{b[max(n - 40, 0):n + 40]!r}")


# --- raw client -------------------------------------------------------------------------------

class RawPop3:
    """Speaks POP3 over a plain socket and returns every response byte for byte."""

    def __init__(self, port, host=HOST, timeout=IO_TIMEOUT_S, source=None):
        """source: the local address to connect from ("127.0.0.2": another client address)."""
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""
        self.greeting = self.read_line()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError(f"server closed the connection; unread: {self.buf[:200]!r}")
        self.buf += data

    def read_line(self):
        """One response line including its CRLF."""
        while b"\r\n" not in self.buf:
            self._fill()
        end = self.buf.index(b"\r\n") + 2
        line, self.buf = self.buf[:end], self.buf[end:]
        return line

    def read_multi(self):
        """Status line; if +OK, everything up to and including CRLF.CRLF (the status line's
        CRLF can be the terminator's first two bytes for an empty body)."""
        status = self.read_line()
        if not status.startswith(b"+OK"):
            return status
        data, start = status + self.buf, len(status) - 2
        self.buf = b""
        while True:
            end = data.find(TERMINATOR, start)
            if end >= 0:
                end += len(TERMINATOR)
                self.buf = data[end:]
                return data[:end]
            start = max(len(data) - len(TERMINATOR) + 1, 0)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError(f"closed inside a multi-line reply after {len(data)} bytes")
            data += chunk

    def send(self, line):
        """line: str or bytes, without CRLF (bytes are sent as they are, for 8-bit)."""
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.sock.sendall(line + b"\r\n")

    def cmd(self, line):
        self.send(line)
        return self.read_line()

    def cmd_multi(self, line):
        self.send(line)
        return self.read_multi()

    def login(self, user, password):
        """USER/PASS; returns the PASS response (or the USER one if that failed)."""
        reply = self.cmd(b"USER " + _b(user))
        if not reply.startswith(b"+OK"):
            return reply
        return self.cmd(b"PASS " + _b(password))

    def wait_closed(self, timeout_s):
        """True if the server closes the connection within timeout_s (any bytes before that
        are kept in self.buf)."""
        self.sock.settimeout(timeout_s)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (socket.timeout, ConnectionResetError):
            return False


def _b(text):
    return text if isinstance(text, bytes) else text.encode("utf-8")


def login_retrying_in_use(port, user, password, timeout_s=30):
    """A logged-in RawPop3. A session we just dropped may hold the mailbox lock for a moment
    after our close, so [IN-USE] is retried for a bounded time; anything else fails."""
    deadline = time.monotonic() + timeout_s
    while True:
        conn = RawPop3(port)
        reply = conn.login(user, password)
        if reply.startswith(b"+OK"):
            return conn
        conn.close()
        if not reply.startswith(b"-ERR [IN-USE]") or time.monotonic() > deadline:
            raise AssertionError(f"login as {user} failed: {reply!r}")
        time.sleep(0.1)


def wait_until_free(port, user, password):
    """Returns once a session can log in and QUIT: a real client started next (which cannot
    retry on [IN-USE] itself) then finds the mailbox free."""
    conn = login_retrying_in_use(port, user, password)
    try:
        reply = conn.cmd("QUIT")
        if not reply.startswith(b"+OK"):
            raise AssertionError(f"QUIT as {user}: {reply!r}")
    finally:
        conn.close()
