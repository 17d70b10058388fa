"""bench.py's targets, scenarios, plans and command line."""

import argparse
import os

from . import cyrus

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
REPO = os.path.dirname(HERE)
ALL_TARGETS = ["dovecot", "imapc", "nginx", "popgate"]  # the default set
KNOWN_TARGETS = ALL_TARGETS + cyrus.TARGETS
ALL_SCENARIOS = ["poll", "bulk", "big", "idle", "rabid"]
# Not in the default set: its own store and mailbox of 100,000 messages (bench/huge_mailbox.py).
EXTRA_SCENARIOS = ["huge"]

PLANS = {
    # Full: about 10 minutes on 2 cores. Quick: a smoke test of every path, about 2 minutes.
    "full": dict(poll_concurrency=[1, 16, 64], poll_s=10, bulk_concurrency=[1, 8], bulk_s=10,
                 warmup_s=1, slow_rate="20M", idle_plain=10_000, idle_tls=2_000,
                 rabid_s=20, rabid_processes=16),
    "quick": dict(poll_concurrency=[1, 16, 64], poll_s=2, bulk_concurrency=[1, 8], bulk_s=2,
                  warmup_s=0.5, slow_rate="50M", idle_plain=1_000, idle_tls=200,
                  rabid_s=5, rabid_processes=16),
}
# Not run on these targets: big's floor is the Dovecot store's IMAP and Cyrus does not hold the
# big message; Cyrus forks a pop3d per connection (10,000 idle ones would be 10,000 processes).
SKIPPED = {"big": cyrus.TARGETS, "idle": ["cyrus-pop3d"]}
POLL_USERS, BULK_USERS, BULK_MESSAGES, BIG_MIB = 100, 16, 100, 100
BIG_FAST_REPEATS = 11


def parse_args(description):
    """bench.py's command line."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="short runs: a smoke test")
    p.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    p.add_argument("--targets", default=",".join(ALL_TARGETS))
    p.add_argument("--rounds", type=int, default=1,
                   help="poll and bulk: run every cell this many times, the targets taking turns "
                        "in each round; the report gives medians (and each round's ratios)")
    p.add_argument("--workers", type=int, default=1,
                   help="event loops for popgate and worker processes for nginx (the same number)")
    p.add_argument("--pin", action="store_true",
                   help="the store's Dovecot on CPU 0, every gateway on CPU 1 (load generator "
                        "free): separates a gateway's own cost from sharing a core with the store")
    p.add_argument("--popgate", default=os.environ.get("POPGATE_BENCH_BIN")
                   or os.path.join(REPO, "build", "popgate"))
    p.add_argument("--loadgen", default=os.environ.get("POPGATE_BENCH_LOADGEN")
                   or os.path.join(REPO, "build", "bench", "popgate-loadgen"))
    p.add_argument("--workdir", default=os.environ.get("POPGATE_BENCH_DIR", "/tmp/popgate-bench"),
                   help="scratch directory for the servers and the mail store (wiped)")
    p.add_argument("--results", default=os.path.join(HERE, "results"))
    p.add_argument("--command-line", default=None, help="the command as typed (for the report)")
    p.add_argument("--report-only", metavar="DIR",
                   help="rewrite DIR/summary.md from the raw results in DIR; run nothing")
    args = p.parse_args()
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    args.targets = [t for t in args.targets.split(",") if t]
    for s in args.scenarios:
        if s not in ALL_SCENARIOS + EXTRA_SCENARIOS:
            p.error(f"unknown scenario {s}")
    for t in args.targets:
        if t not in KNOWN_TARGETS:
            p.error(f"unknown target {t}")
    return args
