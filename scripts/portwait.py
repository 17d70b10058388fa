"""Waiting for a server to come up: the one loop that every Python harness of popgate uses
(scripts/dovecot_sandbox.py, tests/integration/popgate_fixture.py, bench/benchlib/services.py).
Each of them has scripts/ on sys.path already, for dovecot_sandbox. Standard library only."""

import socket
import time

POLL_S = 0.05
CONNECT_TIMEOUT_S = 2


def wait_for_port(port, timeout_s, *, host="127.0.0.1", greeting=None, proc=None):
    """True once a TCP connection to host:port succeeds and, if `greeting` (bytes) is given, the
    server's first bytes start with it. TLS ports greet only after the handshake: leave
    `greeting` out for them. False after `timeout_s`, or as soon as `proc` (a Popen, if given)
    has exited: a server that died is not waited for."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as s:
                if greeting is None or s.recv(256).startswith(greeting):
                    return True
        except OSError:  # refused, reset, or no greeting in time
            pass
        time.sleep(POLL_S)
    return False
