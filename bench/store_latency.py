#!/usr/bin/python3
"""RETR latency through popgate in front of each IMAP store, against that store's own POP3
server on the same mailbox, measured in the same run (issue: no delayed-ACK stall against any
store). Courier writes a FETCH line and its literal in two packets with Nagle on; without quick
ACKs on popgate's upstream socket, each RETR waited for a delayed ACK (about 44 ms).

    bench/store_latency.py [--popgate build/popgate] [--messages 50] [--stores courier,cyrus]
                           [--read-ahead-bytes 0]

Prints, per store, the median and 90th percentile of RETR (command to final ".") through
popgate and through the store's pop3d, and their ratio. Needs root and scripts/install-deps.sh.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))

import courier_sandbox  # noqa: E402
import cyrus_sandbox  # noqa: E402
from dovecot_sandbox import ALICE, free_port  # noqa: E402
from portwait import wait_for_port  # noqa: E402


class Pop3:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.line()

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.line()

    def retr(self, n):
        self.sock.sendall(b"RETR %d\r\n" % n)
        while b"\r\n.\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        self.buf = b""


def measure(port, count):
    conn = Pop3(port)
    conn.cmd(f"USER {ALICE[0]}")
    if not conn.cmd(f"PASS {ALICE[1]}").startswith(b"+OK"):
        raise RuntimeError(f"login failed on port {port}")
    times = []
    for n in range(1, count + 1):
        start = time.perf_counter()
        conn.retr(n)
        times.append((time.perf_counter() - start) * 1000)
    conn.cmd("QUIT")
    return times


def run_store(name, module, binary, count, workdir, read_ahead):
    sandbox = module.Sandbox(os.path.join(workdir, name)).start()
    try:
        messages = [b"From: b@example.net\r\nSubject: latency %d\r\n\r\n" % i +
                    b"body line of a small message\r\n" * (20 + i) for i in range(count)]
        sandbox.seed(*ALICE, messages)
        port = free_port()
        config = os.path.join(workdir, f"{name}.yaml")
        with open(config, "w") as f:
            f.write(f"listeners:\n  - {{name: pop3, address: 127.0.0.1, port: {port}}}\n"
                    f"backends:\n  s: {{type: imap, host: 127.0.0.1, port: {sandbox.imap_port}, "
                    f"read_ahead_bytes: {read_ahead}}}\n"
                    f"routing:\n  default_backend: s\nlog:\n  level: warn\n")
        gateway = subprocess.Popen([binary, "--config", config])
        try:
            wait_for_port(port, 30)
            through = measure(port, count)
            own = measure(sandbox.pop3_port, count)
        finally:
            gateway.terminate()
            gateway.wait()
    finally:
        sandbox.stop()
    p90 = lambda xs: sorted(xs)[int(len(xs) * 0.9) - 1]  # noqa: E731
    print(f"{name}: RETR ms, median / p90: popgate {statistics.median(through):.2f} / "
          f"{p90(through):.2f}, {name} pop3d {statistics.median(own):.2f} / {p90(own):.2f}; "
          f"popgate / pop3d (median) {statistics.median(through) / statistics.median(own):.2f}x")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--popgate", default=os.path.join(HERE, "..", "build", "popgate"))
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--stores", default="courier,cyrus")
    # Off by default: each RETR then makes its own upstream round trip, which is what a stall
    # would show in (read-ahead would hide it behind the previous RETR).
    parser.add_argument("--read-ahead-bytes", type=int, default=0)
    args = parser.parse_args()
    modules = {"courier": courier_sandbox, "cyrus": cyrus_sandbox}
    with tempfile.TemporaryDirectory(prefix="popgate-latency-") as workdir:
        os.chmod(workdir, 0o755)
        for name in args.stores.split(","):
            run_store(name, modules[name], os.path.abspath(args.popgate), args.messages, workdir,
                      args.read_ahead_bytes)


if __name__ == "__main__":
    main()
