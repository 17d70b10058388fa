#!/usr/bin/python3
"""Soak (issue 13): 1,000 users polling popgate at once, every few seconds, for N minutes; no
growth of popgate's memory or open descriptors from the first minute to the last.

    bench/soak.py [--users 1000] [--interval 5] [--minutes 10] [--popgate build/popgate]

Not part of CI (it runs for minutes). It starts the benchmark's store (a Dovecot sandbox,
benchlib/services.py) with USERS users of 20 small messages each (Maildir files hard-linked
into every user, indexed once) and popgate in front of its IMAP, then runs one client per user
in one asyncio loop: connect, USER, PASS, UIDL, QUIT, then sleep INTERVAL seconds (the first
sleep spread at random over the interval). Every 5 s it samples popgate's VmRSS and the number
of entries in /proc/PID/fd. At the end it compares the first full minute (the one after the
first INTERVAL of ramp-up) with the last (half the run each when it is shorter than that): the median RSS may grow by at most 2 MiB and the
median descriptor count by at most 2 % of the users (sessions in flight vary from sample to
sample); it prints both, writes bench/results/<timestamp>-soak/soak.json, and exits 1 if either
grew more.
"""

import argparse
import asyncio
import datetime
import json
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import corpus, services  # noqa: E402

REPO = os.path.dirname(HERE)
SAMPLE_S = 5
MAX_RSS_GROWTH_KIB = 2048


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--interval", type=float, default=5.0, help="seconds between polls of a user")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--popgate", default=os.environ.get("POPGATE_BENCH_BIN")
                   or os.path.join(REPO, "build", "popgate"))
    p.add_argument("--workdir", default=(os.environ.get("POPGATE_BENCH_DIR")
                                         or "/tmp/popgate-bench") + "-soak")
    p.add_argument("--results", default=os.path.join(HERE, "results"))
    return p.parse_args()


def popgate_sample(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


async def poll_forever(port, user, interval, stop_at, counts):
    await asyncio.sleep(random.uniform(0, interval))
    while time.monotonic() < stop_at:
        try:
            reader, writer = await asyncio.open_connection(services.HOST, port)
            try:
                await reader.readline()
                for command in (f"USER {user}", f"PASS {corpus.PASSWORD}"):
                    writer.write(command.encode() + b"\r\n")
                    if not (await reader.readline()).startswith(b"+OK"):
                        raise RuntimeError(f"{command.split()[0]} refused")
                writer.write(b"UIDL\r\n")
                await reader.readuntil(b"\r\n.\r\n")
                writer.write(b"QUIT\r\n")
                await reader.readline()
                counts["ok"] += 1
            finally:
                writer.close()
                await writer.wait_closed()
        except (OSError, RuntimeError, asyncio.IncompleteReadError) as error:
            counts["failed"] += 1
            counts["last_error"] = repr(error)
        await asyncio.sleep(interval)


async def sample_forever(pid, stop_at, samples, started):
    while time.monotonic() < stop_at:
        rss, fds = popgate_sample(pid)
        samples.append({"t": time.monotonic() - started, "rss_kib": rss, "fds": fds})
        await asyncio.sleep(SAMPLE_S)


async def soak(args, port, pid):
    started = time.monotonic()
    stop_at = started + args.minutes * 60
    counts = {"ok": 0, "failed": 0, "last_error": None}
    samples = []
    users = corpus.users_of("soak", args.users)
    await asyncio.gather(sample_forever(pid, stop_at, samples, started),
                         *(poll_forever(port, u, args.interval, stop_at, counts) for u in users))
    return counts, samples


def window(samples, start, end):
    chosen = [s for s in samples if start <= s["t"] < end]
    return {"rss_kib": statistics.median(s["rss_kib"] for s in chosen),
            "fds": statistics.median(s["fds"] for s in chosen), "samples": len(chosen)}


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("soak: run as root (Dovecot's mail processes switch users)")
    if args.minutes * 60 < 60 + args.interval:
        sys.exit("soak: --minutes must leave two windows to compare after the ramp-up")
    work = args.workdir
    cert, key = services.fresh_workdir(work)
    users = corpus.users_of("soak", args.users)
    running = []
    try:
        store = services.StoreDovecot(os.path.join(work, "store"),
                                      {u: corpus.PASSWORD for u in users}, cert, key)
        running.append(store)
        store.start()
        writer = corpus.MaildirWriter(store.dir, store.uid, store.gid)
        rng = random.Random(7)
        files = [writer.store_message(corpus.message(rng, n, rng.randrange(2_000, 8_000)))
                 for n in range(1, 21)]
        for user in users:
            writer.fill(user, files)
        subprocess.run(["doveadm", "-c", store.config_path, "mailbox", "status", "-A",
                        "messages", "INBOX"], check=True, stdout=subprocess.DEVNULL)
        popgate = services.Popgate(os.path.join(work, "popgate"), args.popgate, store.imap_port,
                                   cert, key,
                                   extra_yaml="limits:\n  max_connections_per_address: 0\n")
        running.append(popgate)
        popgate.start()
        print(f"==> {args.users} users polling every {args.interval} s for {args.minutes} min",
              flush=True)
        counts, samples = asyncio.run(soak(args, popgate.pop3_port, popgate.process.pid))
    finally:
        for service in reversed(running):
            service.stop()
    end = args.minutes * 60
    span = min(60, (end - args.interval) / 2)  # a minute each, less in a short run
    first = window(samples, args.interval, args.interval + span)
    last = window(samples, end - span, end)
    result = {"users": args.users, "interval_s": args.interval, "minutes": args.minutes,
              "sessions": counts, "first_minute": first, "last_minute": last,
              "samples": samples}
    rss_growth = last["rss_kib"] - first["rss_kib"]
    fd_growth = last["fds"] - first["fds"]
    ok = rss_growth <= MAX_RSS_GROWTH_KIB and fd_growth <= max(2, args.users // 50)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = os.path.join(args.results, f"{stamp}-soak")
    os.makedirs(out)
    with open(os.path.join(out, "soak.json"), "w") as f:
        json.dump(result, f, indent=1)
    minutes = args.minutes
    print(f"sessions: {counts['ok']} ok ({counts['ok'] / (minutes * 60):.0f}/s), "
          f"{counts['failed']} failed (last error: {counts['last_error']})")
    print(f"popgate RSS (median): first minute {first['rss_kib']} KiB, last minute "
          f"{last['rss_kib']} KiB, growth {rss_growth} KiB (at most {MAX_RSS_GROWTH_KIB})")
    print(f"popgate descriptors (median): first minute {first['fds']}, last minute "
          f"{last['fds']}, growth {fd_growth}")
    print(f"{'no growth' if ok else 'GROWTH'}; raw samples: {out}/soak.json")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
