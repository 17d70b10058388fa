"""A fault-injecting TCP relay for the fault matrix (test_faults.py), standard library only.

It sits between popgate and the sandbox Dovecot (or between a POP3 client and popgate) and
breaks the connection at a chosen protocol step. It reads the line-based command stream that
flows from the connecting side (IMAP `tag COMMAND ...`, POP3 `COMMAND ...`) and fires its fault
when a line matches the fault's pattern:

- `before`: the matching line is not forwarded; the fault fires at once ("between UID STORE and
  UID EXPUNGE": the EXPUNGE never reaches the server).
- `reply`: the line is forwarded; the fault fires on the answer coming back, after
  `after_bytes` of it were passed on, or after `after_lines` whole lines. With `after_bytes=0`
  the server has answered (so has acted) and its answer is what the fault destroys.
- pattern None: the fault fires when the connection is accepted (greeting, TLS handshake).

Faults: `refuse` (nothing listens), `reset` (RST both ways: SO_LINGER 0), `cut` (FIN both ways),
`stall` (nothing more is forwarded either way; sockets stay open), `trickle` (the answer goes
on one byte per 100 ms for `count` bytes, then at full speed), `delay` (every chunk either way
waits `seconds`). A fault fires once per relay: later connections (the session that checks the
aftermath) pass untouched. After STARTTLS is forwarded, or with `tls=True`, the stream is no
longer read as lines (it is TLS); only connect- and byte-triggered faults apply then.
"""

import re
import socket
import struct
import threading
import time

TRICKLE_INTERVAL_S = 0.1
MAX_LINE = 1 << 20  # a command line longer than this is forwarded unread


class Fault:
    def __init__(self, action, pattern=None, when="before", after_bytes=0, after_lines=0,
                 count=20, seconds=0.3):
        assert action in ("refuse", "reset", "cut", "stall", "trickle", "delay"), action
        assert when in ("before", "reply"), when
        self.action, self.when = action, when
        self.pattern = re.compile(pattern.encode() if isinstance(pattern, str) else pattern) \
            if pattern else None
        self.after_bytes, self.after_lines = after_bytes, after_lines
        self.count, self.seconds = count, seconds


def _hard_close(sock):
    """Closes with an RST. The pump thread blocked in recv() on this socket holds the kernel's
    file: close() alone would send nothing until that recv returns. shutdown(SHUT_RD) wakes it
    and sends nothing; the last reference going then sends the RST (SO_LINGER 0)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    sock.close()


def _recv(sock):
    """The next chunk, or b"" once the connection is closed, reset or closed by us."""
    try:
        return sock.recv(65536)
    except OSError:
        return b""


class _Link:
    """One relayed connection: `inner` is the connecting side (popgate, or a client)."""

    def __init__(self, relay, inner, outer):
        self.relay, self.inner, self.outer = relay, inner, outer
        self.lock = threading.Lock()
        self.dead = False
        self.stalled = False
        self.delay = 0.0
        self.raw = relay.tls
        self.down_fault = None       # armed fault waiting for the answer
        self.down_passed = 0
        self.trickle_left = 0

    def start(self):
        for target in (self._up, self._down):
            threading.Thread(target=target, daemon=True).start()

    # --- firing -------------------------------------------------------------------------

    def fire(self, fault):
        """Applies `fault` now. Returns False if nothing more may be forwarded."""
        if fault.action == "reset":
            self.close(hard=True)
            return False
        if fault.action == "cut":
            self.close(hard=False)
            return False
        if fault.action == "stall":
            self.stalled = True
            return False
        if fault.action == "trickle":
            self.trickle_left = fault.count
        if fault.action == "delay":
            self.delay = fault.seconds
        return True

    def close(self, hard):
        with self.lock:
            if self.dead:
                return
            self.dead = True
        for sock in (self.inner, self.outer):
            if hard:
                _hard_close(sock)
            else:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def _send(self, sock, data):
        if self.dead or self.stalled or not data:
            return
        if self.delay:
            time.sleep(self.delay)
        try:
            sock.sendall(data)
        except OSError:
            self.close(hard=False)

    # --- the two directions ---------------------------------------------------------------

    def _up(self):
        """Connecting side -> far side, read as lines until the stream turns to TLS."""
        pending = b""
        while not self.dead:
            data = _recv(self.inner)
            if not data:
                # The connecting side went away (popgate closed after its own timeout, or the
                # client): take the other side down too.
                self.close(hard=False)
                return
            if self.stalled:
                continue
            if self.raw:
                self._send(self.outer, data)
                continue
            pending += data
            while not self.raw and b"\n" in pending and not self.dead and not self.stalled:
                end = pending.index(b"\n") + 1
                line, pending = pending[:end], pending[end:]
                if not self._line(line):
                    pending = b""
                    break
            if self.raw or len(pending) > MAX_LINE:
                self._send(self.outer, pending)
                pending = b""

    def _line(self, line):
        fault = self.relay.take(line)
        if fault is not None and fault.when == "before" and not self.fire(fault):
            return False  # the line never reaches the far side
        if fault is not None and fault.when == "reply":
            self.down_fault, self.down_passed = fault, 0
        self._send(self.outer, line)
        if re.match(rb"^\S+ STARTTLS\r?\n$", line, re.I):
            self.raw = True  # what follows is the TLS handshake
        return True

    def _down(self):
        """Far side -> connecting side, where armed answer faults fire."""
        while not self.dead:
            data = _recv(self.outer)
            if not data:
                if not self.stalled:
                    self.close(hard=False)
                return
            if self.stalled:
                continue
            fault = self.down_fault
            if fault is not None:
                keep = self._passed_before_fire(fault, data)
                if keep is not None:
                    self._send(self.inner, data[:keep])
                    self.down_fault = None
                    if not self.fire(fault):
                        continue
                    data = data[keep:]
                else:
                    self.down_passed += len(data)
            while self.trickle_left and data and not self.dead:
                self._send(self.inner, data[:1])
                data = data[1:]
                self.trickle_left -= 1
                time.sleep(TRICKLE_INTERVAL_S)
            self._send(self.inner, data)

    def _passed_before_fire(self, fault, data):
        """How many bytes of `data` pass before the fault fires, or None: not in this chunk."""
        if fault.after_lines:
            seen, pos = 0, 0
            while seen < fault.after_lines:
                nl = data.find(b"\n", pos)
                if nl < 0:
                    fault.after_lines -= seen
                    return None
                pos, seen = nl + 1, seen + 1
            return pos
        left = fault.after_bytes - self.down_passed
        return left if left <= len(data) else None


class FaultRelay:
    """Listens on a free loopback port and relays each connection to (host, port)."""

    def __init__(self, port, host="127.0.0.1", fault=None, tls=False):
        self.target = (host, port)
        self.fault, self.tls = fault, tls
        self.fired = threading.Event()
        self.connections = 0
        self.links = []
        self._lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.port = self.listener.getsockname()[1]
        if fault is not None and fault.action == "refuse":
            # Bound but never listening: the kernel refuses connections (RST to the SYN).
            self.fired.set()
            return
        self.listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def take(self, line):
        """The fault if `line` is its trigger and it has not fired yet."""
        fault = self.fault
        if fault is None or fault.pattern is None or not fault.pattern.search(line):
            return None
        with self._lock:
            if self.fired.is_set():
                return None
            self.fired.set()
        return fault

    def _accept(self):
        while True:
            try:
                inner, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            try:
                outer = socket.create_connection(self.target, timeout=10)
                outer.settimeout(None)
            except OSError:
                _hard_close(inner)
                continue
            for sock in (inner, outer):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(self, inner, outer)
            self.links.append(link)
            fault = self.fault
            if fault is not None and fault.pattern is None and not self.fired.is_set():
                self.fired.set()
                if fault.when == "reply":
                    link.down_fault = fault
                elif not link.fire(fault):
                    if fault.action == "stall":
                        link.start()  # reads and drops, so that closes are still seen
                    continue
            link.start()

    def heal(self):
        """No more faults: a refusing relay starts listening, later connections pass."""
        self.fired.set()
        if self.fault is not None and self.fault.action == "refuse":
            self.fault = None
            self.listener.listen(64)
            threading.Thread(target=self._accept, daemon=True).start()
        self.fault = None

    def strike(self, action):
        """Applies a fault of `action` to every live connection now (a break while popgate
        waits on nothing, e.g. between DELE and QUIT)."""
        self.fired.set()
        for link in self.links:
            if not link.dead:
                link.fire(Fault(action))

    def close(self):
        self.listener.close()
        for link in self.links:
            link.close(hard=False)
