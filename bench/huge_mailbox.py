#!/usr/bin/python3
"""Huge mailboxes (issue 13): one mailbox of 100,000 messages, timed through three POP3 servers
over the same Dovecot Maildir store, and popgate's memory per message of the open mailbox.

    bench/run.sh --scenarios huge               (installs, builds, then runs this)
    bench/huge_mailbox.py [--messages N] [--repeats R] [--popgate BIN]

Targets: Dovecot's own POP3 on the store (native), Dovecot's POP3 over imapc against the store's
IMAP (the configuration of benchlib/services.py), and popgate against the store's IMAP. Each
session: connect, greeting, USER, PASS (+OK), STAT, UIDL (all N lines), LIST (all N lines),
QUIT, timed at each step; one unmeasured session per target first (Dovecot's POP3 builds its
UIDL cache, imapc its view), then R measured sessions per target, interleaved, median kept.
Memory: popgate's VmRSS while the huge session is open (after LIST) minus before it, the
process having served one session of a one-message mailbox before (so that what any session
allocates once is in the baseline), divided by N.

Writes bench/results/<timestamp>-huge/{huge.json,summary.md} and prints the summary.
"""

import argparse
import datetime
import json
import os
import socket
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import peer_gateways, services  # noqa: E402

REPO = os.path.dirname(HERE)
PASSWORD = "bench-secret"
TERMINATOR = b"\r\n.\r\n"


def huge_messages(count):
    """Distinct small messages with LF line ends (as a Maildir holds them), 150-250 bytes."""
    return [b"From: seed@example.net\nTo: huge@example.org\nSubject: message %d\n"
            b"Message-ID: <%d@huge.example.net>\n\n%s\n" % (n, n, b"x" * (n % 97))
            for n in range(1, count + 1)]


class Client:
    """A plain POP3 client that times each step; multi-line replies are framed, not kept."""

    def __init__(self, port):
        self.sock = socket.create_connection((services.HOST, port), timeout=600)
        self.buf = bytearray()

    def line(self):
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                out = bytes(self.buf[:end])
                del self.buf[:end + 2]
                return out
            self._fill()

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("closed by the server")
        self.buf += data

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        reply = self.line()
        if not reply.startswith(b"+OK"):
            raise RuntimeError(f"{text.split()[0]}: {reply!r}")
        return reply

    def multi(self, text):
        """Sends `text`; returns the number of lines of the multi-line reply."""
        self.cmd(text)
        self.buf[:0] = b"\r\n"  # the status line's CRLF: an empty listing ends at once
        start = 0
        while True:
            end = self.buf.find(TERMINATOR, start)
            if end >= 0:
                lines = self.buf.count(b"\r\n", 0, end)
                del self.buf[:end + len(TERMINATOR)]
                return lines
            start = max(len(self.buf) - len(TERMINATOR), 0)
            self._fill()


def session(port, user, messages, at_open=None):
    """One timed session; seconds from the connect to each step's end."""
    t0 = time.monotonic()
    client = Client(port)
    if not client.line().startswith(b"+OK"):
        raise RuntimeError("no greeting")
    client.cmd(f"USER {user}")
    client.cmd(f"PASS {PASSWORD}")
    t_pass = time.monotonic()
    stat = client.cmd("STAT").split()
    t_stat = time.monotonic()
    uidls = client.multi("UIDL")
    t_uidl = time.monotonic()
    lists = client.multi("LIST")
    t_list = time.monotonic()
    if int(stat[1]) != messages or uidls != messages or lists != messages:
        raise RuntimeError(f"expected {messages} messages: STAT {stat}, UIDL {uidls}, LIST {lists}")
    opened = at_open() if at_open else None
    client.cmd("QUIT")
    client.sock.close()
    return {"pass_s": t_pass - t0, "stat_s": t_stat - t0, "uidl_s": t_uidl - t0,
            "list_s": t_list - t0, "octets": int(stat[2]), "at_open": opened}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--targets", default="dovecot,imapc,popgate",
                   help="timed targets (popgate's memory is always measured)")
    p.add_argument("--popgate", default=os.environ.get("POPGATE_BENCH_BIN")
                   or os.path.join(REPO, "build", "popgate"))
    p.add_argument("--workdir", default=(os.environ.get("POPGATE_BENCH_DIR")
                                         or "/tmp/popgate-bench") + "-huge",
                   help="scratch directory (wiped); beside bench.py's, which wipes its own")
    p.add_argument("--results", default=os.path.join(HERE, "results"))
    p.add_argument("--command-line", default=None)
    args = p.parse_known_args()[0]
    args.targets = [t for t in args.targets.split(",") if t]
    return args


def run(args):
    work = args.workdir
    cert, key = services.fresh_workdir(work)
    running = []
    try:
        store = services.StoreDovecot(os.path.join(work, "store"),
                                      {"huge": PASSWORD, "warm": PASSWORD}, cert, key)
        running.append(store)
        store.start()
        print(f"==> seeding {args.messages} messages into the Maildir, indexing once", flush=True)
        started = time.monotonic()
        store.seed_maildir("huge", huge_messages(args.messages))
        store.seed_maildir("warm", huge_messages(1))
        seeded_s = time.monotonic() - started
        targets = {"dovecot": store.pop3_port}
        if "imapc" in args.targets:
            imapc = peer_gateways.ImapcDovecot(os.path.join(work, "imapc"), store.imap_port, cert,
                                               key)
            running.append(imapc)
            targets["imapc"] = imapc.start().pop3_port
        popgate = services.Popgate(os.path.join(work, "popgate"), args.popgate, store.imap_port,
                                   cert, key)
        running.append(popgate)
        popgate.start()
        pid = popgate.process.pid
        targets["popgate"] = popgate.pop3_port
        targets = {name: port for name, port in targets.items() if name in args.targets}

        print("==> popgate's memory for the open mailbox", flush=True)
        session(popgate.pop3_port, "warm", 1)
        before = rss_kib(pid)
        first = session(popgate.pop3_port, "huge", args.messages, at_open=lambda: rss_kib(pid))
        memory = {"before_kib": before, "open_kib": first["at_open"],
                  "bytes_per_message": (first["at_open"] - before) * 1024 / args.messages}
        print(f"    {json.dumps(memory)}", flush=True)

        print("==> one unmeasured session per target", flush=True)
        for port in targets.values():
            session(port, "huge", args.messages)
        runs = {name: [] for name in targets}
        for r in range(args.repeats):
            for name, port in targets.items():
                runs[name].append(session(port, "huge", args.messages))
                print(f"    run {r + 1} {name}: " + ", ".join(
                    f"{k} {v:.3f}" for k, v in runs[name][-1].items() if k.endswith("_s")),
                    flush=True)
    finally:
        for service in reversed(running):
            service.stop()
    return {"messages": args.messages, "repeats": args.repeats, "seed_s": seeded_s,
            "memory": memory, "runs": runs}


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def summary(result, command):
    names = {"dovecot": "Dovecot native", "imapc": "Dovecot imapc", "popgate": "popgate"}
    runs = result["runs"]
    lines = [f"## Huge mailbox: {result['messages']:,} messages", "",
             f"`{command}`; {result['repeats']} sessions per target, median seconds from the "
             f"connect to the end of each step; the Maildir written directly and indexed once "
             f"({result['seed_s']:.1f} s).", "",
             "| target | +OK of PASS | STAT | UIDL | LIST | popgate / target (to the end of UIDL) |",
             "|---|---|---|---|---|---|"]
    ours = median(runs["popgate"], "uidl_s") if runs.get("popgate") else None
    for name, title in names.items():
        if not runs.get(name):
            continue
        ratio = "" if name == "popgate" or ours is None else \
            f"{ours / median(runs[name], 'uidl_s'):.2f}x"
        lines.append(f"| {title} | " + " | ".join(
            f"{median(runs[name], k):.3f}" for k in ("pass_s", "stat_s", "uidl_s", "list_s"))
            + f" | {ratio} |")
    m = result["memory"]
    lines += ["", f"popgate memory for the open mailbox: {m['open_kib'] - m['before_kib']:,} KiB "
              f"of RSS, **{m['bytes_per_message']:.1f} bytes per message** (goal <= 64).", ""]
    return "\n".join(lines)


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("huge_mailbox: run as root (Dovecot's mail processes switch users)")
    result = run(args)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = os.path.join(args.results, f"{stamp}-huge")
    os.makedirs(out)
    command = args.command_line or " ".join(sys.argv)
    with open(os.path.join(out, "huge.json"), "w") as f:
        json.dump(result | {"command": command}, f, indent=1)
    text = summary(result, command)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    print(text)
    print(f"raw results: {out}")


if __name__ == "__main__":
    main()
