"""The benchmark's mail: written straight into the sandbox's Maildirs, then indexed by Dovecot.

Writing Maildir files (one file per message, stored as Dovecot stores an APPENDed message: LF
line ends, the sizes in the name: S= bytes on disk, W= RFC822.SIZE with CRLF) and hard-linking
the same files into every user of a kind takes a second or two; APPENDing the same corpus over
IMAP takes much longer (docs/performance.md gives both figures). Dovecot assigns UIDs and
builds its index on the first access; `doveadm mailbox status` does that for every user up
front, so that no run measures index building.

Users:
  poll001..pollNNN  500 small messages each (the leave-on-server client's mailbox)
  bulk001..bulkNNN  a realistic mix of 2 KB to 200 KB messages
  big               one message of about 100 MiB
"""

import os
import random
import subprocess
import time

PASSWORD = "bench-secret"
BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
WORDS = (b"the of and to in is that for it as was with be by on not he this are or his from "
         b"at which but have an they you were her she there been one all we their has would "
         b"when if so no will more mail server message gateway client folder inbox").split()

# Realistic sizes: most mail is small text or HTML, a tail carries attachments (bytes, CRLF).
SIZE_MIX = [  # (share, low, high)
    (0.40, 2_000, 8_000),
    (0.30, 8_000, 32_000),
    (0.20, 32_000, 100_000),
    (0.10, 100_000, 200_000),
]


def _headers(rng, n, subject):
    return (f"Return-Path: <sender{n}@example.net>\n"
            f"From: Sender {n} <sender{n}@example.net>\n"
            f"To: User <user@example.org>\n"
            f"Subject: {subject}\n"
            f"Date: Mon, 1 Jan 2024 {n % 24:02d}:{n % 60:02d}:00 +0000\n"
            f"Message-ID: <bench-{n}-{rng.randrange(1 << 30)}@example.net>\n"
            f"MIME-Version: 1.0\n").encode()


def _text_lines(rng, size):
    """Wrapped prose, about 1 line in 40 starting with '.' (exercises dot-stuffing)."""
    out, total = [], 0
    while total < size:
        words = [rng.choice(WORDS) for _ in range(rng.randrange(6, 13))]
        line = b" ".join(words)
        if rng.randrange(40) == 0:
            line = b"." + line
        out.append(line + b"\n")
        total += len(line) + 2  # counted with CRLF, as served
    return b"".join(out)


def _base64_lines(rng, size):
    """Attachment-like: 76-character base64 lines (none starts with '.')."""
    line_count = max(size // 78, 1)
    block = bytes(rng.choice(BASE64) for _ in range(76 * 64))
    lines = [block[(i % 64) * 76:(i % 64 + 1) * 76] + b"\n" for i in range(line_count)]
    return b"".join(lines)


def message(rng, n, size):
    """A MIME message of about `size` bytes in its CRLF form, stored with LF line ends."""
    head = _headers(rng, n, f"Benchmark message {n} ({size} bytes)")
    if size < 32_000:
        body = (b"Content-Type: text/plain; charset=us-ascii\n\n"
                + _text_lines(rng, size - len(head) - 200))
        return head + body
    boundary = b"bench-boundary-%d" % n
    text = _text_lines(rng, 1500)
    attachment = _base64_lines(rng, size - len(head) - 1900)
    return (head + b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\n\n"
            + b"--" + boundary + b"\nContent-Type: text/plain; charset=us-ascii\n\n" + text
            + b"--" + boundary + b"\nContent-Type: application/octet-stream\n"
            + b"Content-Transfer-Encoding: base64\n"
            + b"Content-Disposition: attachment; filename=\"file.bin\"\n\n" + attachment
            + b"--" + boundary + b"--\n")


def big_message(mebibytes=100):
    rng = random.Random(100)
    head = _headers(rng, 0, f"A {mebibytes} MiB attachment")
    return (head + b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
            + _base64_lines(rng, mebibytes * 1024 * 1024 - len(head) - 100))


def mix_sizes(rng, count):
    sizes = []
    for _ in range(count):
        pick, acc = rng.random(), 0.0
        for share, low, high in SIZE_MIX:
            acc += share
            if pick <= acc:
                sizes.append(rng.randrange(low, high))
                break
        else:
            sizes.append(rng.randrange(SIZE_MIX[-1][1], SIZE_MIX[-1][2]))
    return sizes


class MaildirWriter:
    """Writes message files once under DIR/corpus and links them into users' Maildirs."""

    def __init__(self, sandbox_dir, uid, gid):
        self.home = os.path.join(sandbox_dir, "home")
        self.store = os.path.join(sandbox_dir, "corpus")
        self.uid, self.gid = uid, gid
        self.serial = 0
        os.makedirs(self.store, exist_ok=True)

    def store_message(self, data):
        """Returns (path, Maildir base name) of a new file holding `data` (LF line ends)."""
        self.serial += 1
        crlf_size = len(data) + data.count(b"\n")
        name = f"{1700000000 + self.serial}.M{self.serial}P1.bench,S={len(data)},W={crlf_size}"
        path = os.path.join(self.store, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chown(path, self.uid, self.gid)
        return path, name

    def fill(self, user, files):
        """Links `files` [(path, name)] into the user's Maildir/cur (read, not seen: ':2,')."""
        maildir = os.path.join(self.home, user, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, sub), exist_ok=True)
        for path, name in files:
            os.link(path, os.path.join(maildir, "cur", name + ":2,"))
        for root, dirs, _ in os.walk(os.path.join(self.home, user)):
            os.chown(root, self.uid, self.gid)
            for d in dirs:
                os.chown(os.path.join(root, d), self.uid, self.gid)


def users_of(kind, count):
    return [f"{kind}{i:03d}" for i in range(1, count + 1)]


def mailboxes(bulk_messages):
    """(poll mailbox, bulk mailbox, bulk sizes): the same bytes on every call (LF line ends).
    Within a mailbox every message is byte-distinct (its number is in Subject and Message-ID)."""
    rng = random.Random(42)
    poll = [message(rng, n, rng.randrange(2_000, 8_000)) for n in range(1, 501)]
    bulk_sizes = mix_sizes(rng, bulk_messages)
    bulk = [message(rng, 1000 + n, size) for n, size in enumerate(bulk_sizes)]
    return poll, bulk, bulk_sizes


def seed(sandbox_dir, uid, gid, poll_users, bulk_users, bulk_messages, big_mib, doveadm_config):
    """Writes the whole corpus; returns a dict of what was written and how long it took."""
    started = time.monotonic()
    writer = MaildirWriter(sandbox_dir, uid, gid)
    poll, bulk, bulk_sizes = mailboxes(bulk_messages)
    poll_files = [writer.store_message(data) for data in poll]
    bulk_files = [writer.store_message(data) for data in bulk]
    big_file = writer.store_message(big_message(big_mib))
    for user in poll_users:
        writer.fill(user, poll_files)
    for user in bulk_users:
        writer.fill(user, bulk_files)
    writer.fill("big", [big_file])
    written = time.monotonic()
    # UIDs, index and cache for everyone, now rather than inside a measured run.
    subprocess.run(["doveadm", "-c", doveadm_config, "mailbox", "status", "-A",
                    "messages vsize", "INBOX"], check=True, stdout=subprocess.DEVNULL)
    indexed = time.monotonic()
    bulk_bytes = sum(len(open(p, "rb").read()) for p, _ in bulk_files)
    return {
        "poll_users": len(poll_users), "poll_messages_each": len(poll_files),
        "bulk_users": len(bulk_users), "bulk_messages_each": len(bulk_files),
        "bulk_mailbox_bytes_lf": bulk_bytes,
        "bulk_sizes": {"min": min(bulk_sizes), "max": max(bulk_sizes),
                       "mean": sum(bulk_sizes) // len(bulk_sizes)},
        "big_bytes_lf": os.path.getsize(big_file[0]),
        "write_s": round(written - started, 2), "index_s": round(indexed - written, 2),
    }
