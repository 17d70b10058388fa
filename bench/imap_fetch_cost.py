#!/usr/bin/env python3
"""What one `UID FETCH n BODY.PEEK[]` costs the IMAP server, by how FETCHes are sent.

Why popgate reads ahead (docs/design.md, docs/performance.md): Dovecot's imap process spends
much less CPU per message when the next FETCH is already queued than when each one comes a
round trip after the previous answer. This measures it directly: a sandbox Dovecot
(scripts/dovecot_sandbox.py) with 100 messages of the benchmark's bulk mix, one IMAP session per
pattern, and the CPU time of that session's imap process (utime+stime from /proc) per message.

    sudo bench/imap_fetch_cost.py [ROUNDS]      # ROUNDS x 100 messages per pattern (default 30)

Patterns: one-at-a-time (send, wait for the tagged OK, send the next), queued-1 and queued-2
(one or two more FETCHes always queued behind the one being answered: popgate's read-ahead),
all-pipelined (100 FETCHes in one write).
"""

import os
import random
import re
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
sys.path.insert(0, HERE)
import dovecot_sandbox  # noqa: E402
from benchlib import corpus  # noqa: E402

MESSAGES = 100


def imap_pids():
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == "imap":
                        pids.add(int(entry))
            except OSError:
                pass
    return pids


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Session:
    def __init__(self, port, user, password):
        before = imap_pids()
        self.sock = socket.create_connection((dovecot_sandbox.HOST, port))
        self.buf, self.serial = b"", 0
        self.readline()
        self.command(f"LOGIN {user} {password}")
        self.command("EXAMINE INBOX")
        deadline = time.monotonic() + 5
        while not imap_pids() - before and time.monotonic() < deadline:
            time.sleep(0.05)
        self.pid = (imap_pids() - before).pop()

    def readline(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(1 << 16)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def skip(self, count):
        while len(self.buf) < count:
            self.buf += self.sock.recv(1 << 16)
        self.buf = self.buf[count:]

    def send(self, text):
        self.serial += 1
        tag = f"t{self.serial}"
        self.sock.sendall(f"{tag} {text}\r\n".encode())
        return tag

    def wait(self, tag):
        while True:
            line = self.readline()
            literal = re.search(rb"\{(\d+)\}$", line)
            if literal:
                self.skip(int(literal.group(1)))
            if line.startswith(tag.encode() + b" "):
                return line

    def command(self, text):
        return self.wait(self.send(text))


def run(session, pattern):
    fetch = [f"UID FETCH {uid} BODY.PEEK[]" for uid in range(1, MESSAGES + 1)]
    if pattern == "all-pipelined":
        tags = [session.send(c) for c in fetch]
        session.wait(tags[-1])
        return
    queued = {"one-at-a-time": 0, "queued-1": 1, "queued-2": 2}[pattern]
    tags = [session.send(c) for c in fetch[:queued + 1]]
    for i in range(MESSAGES):
        if i + queued + 1 < MESSAGES:
            tags.append(session.send(fetch[i + queued + 1]))
        session.wait(tags.pop(0))


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    rng = random.Random(42)
    messages = [corpus.message(rng, n, size)
                for n, size in enumerate(corpus.mix_sizes(rng, MESSAGES))]
    with tempfile.TemporaryDirectory(prefix="popgate-fetch-cost-") as directory:
        os.chmod(directory, 0o755)
        sandbox = dovecot_sandbox.Sandbox(directory).start()
        try:
            user, password = dovecot_sandbox.ALICE
            sandbox.seed(user, password, messages)
            print(f"{MESSAGES} messages (mean {sum(map(len, messages)) // MESSAGES} bytes), "
                  f"{rounds} rounds per pattern; CPU of the session's imap process")
            for pattern in ["one-at-a-time", "queued-1", "queued-2", "all-pipelined"]:
                session = Session(sandbox.imap_port, user, password)
                start_cpu, start = cpu_seconds(session.pid), time.monotonic()
                for _ in range(rounds):
                    run(session, pattern)
                cpu = cpu_seconds(session.pid) - start_cpu
                wall = time.monotonic() - start
                count = rounds * MESSAGES
                print(f"  {pattern:14s} {cpu * 1e6 / count:6.0f} us CPU per message, "
                      f"{wall * 1e6 / count:6.0f} us wall")
                session.command("LOGOUT")
        finally:
            sandbox.stop()


if __name__ == "__main__":
    main()
