"""The Markdown summary of one benchmark run: figures, ratios (popgate vs each peer), goals."""

import datetime
import json
import os
import statistics

from .markdown import ratio as _ratio, rfmt as _rfmt, table as _table
from .report_goals import CYRUS_PAIRS, CYRUS_TARGETS, cyrus_goals, cyrus_section, goals

TITLES = {
    "dovecot": "Dovecot native",
    "imapc": "Dovecot imapc",
    "nginx": "nginx proxy",
    "popgate": "popgate",
    "popgate-jmap": "popgate JMAP (Cyrus)",
    "popgate-cyrus-imap": "popgate IMAP (Cyrus)",
    "cyrus-pop3d": "Cyrus POP3",
}
PEERS = ["dovecot", "imapc", "nginx"]


def _fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


class Records:
    def __init__(self, records):
        self.by_run = {r["run"]: r for r in records}

    def get(self, run):
        return self.by_run.get(run)

    def lg(self, run, key, default=None):
        """A load generator figure of a run; with repeats (bench.py --rounds), the median of a
        number over the runs that have it."""
        r = self.get(run)
        if not r or not r.get("loadgen"):
            return default
        value = r["loadgen"].get(key, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return value
        values = [x["loadgen"].get(key) for x in self.repeats(run) if x.get("loadgen")]
        values = [v for v in values if isinstance(v, (int, float))]
        return statistics.median(values) if len(values) > 1 else value

    def each(self, run, key):
        """The figure of every repeat of a run, in run order (None where it failed)."""
        return [(x.get("loadgen") or {}).get(key) for x in self.repeats(run)]

    def repeats(self, run):
        """A run and its repeats (run-2, run-3, ...)."""
        out, n = [], 1
        while True:
            rec = self.get(run if n == 1 else f"{run}-{n}")
            if rec is None:
                return out
            out.append(rec)
            n += 1

    def median_wall(self, run):
        walls = sorted(r["loadgen"]["retr_s"] for r in self.repeats(run)
                       if r.get("loadgen") and r["loadgen"].get("ok"))
        return walls[len(walls) // 2] if walls else None

    def min_wall(self, run):
        walls = [r["loadgen"]["retr_s"] for r in self.repeats(run)
                 if r.get("loadgen") and r["loadgen"].get("ok")]
        return min(walls) if walls else None

    def max_growth(self, run):
        # The fast reader's memory comes from its own sampled run (big-fastmem-*); results from
        # before that split sampled the timed runs themselves.
        if run.startswith("big-fast-") and self.get(run.replace("big-fast-", "big-fastmem-")):
            run = run.replace("big-fast-", "big-fastmem-")
        growths = [r["measure"].get("rss_growth_kib") for r in self.repeats(run)]
        growths = [g for g in growths if g is not None]
        return max(growths) if growths else None

    def m(self, run, key, default=None):
        r = self.get(run)
        if not r:
            return default
        return r["measure"].get(key, default)


def _rounds_note(plan):
    rounds = plan.get("rounds", 1)
    return (f" Median of {rounds} rounds (every cell once per round, the targets taking turns; "
            "latencies from the first round)." if rounds > 1 else "")


def summary(records, machine, corpus, plan, command, targets):
    R = Records(records)
    big_size = R.lg("big-fast-floor", "message_bytes") or corpus["big_bytes_lf"]
    peers = [p for p in PEERS if p in targets]
    has_pg = "popgate" in targets
    # Ratio columns of the poll and bulk tables: (numerator, denominator, header).
    pairs = [("popgate", p, f"popgate / {TITLES[p]}") for p in peers if has_pg]
    pairs += [(a, b, title) for (a, b), title in CYRUS_PAIRS.items() if a in targets and b in targets]
    out = []
    when = machine.get("finished_at") or datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    out.append(f"# popgate benchmark, {when}\n")
    out.append(f"Command: `{command}`  \n")
    out.append(f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
               f"Linux {machine['kernel']}, Debian {machine['debian']}; load average at start "
               f"{machine['loadavg_at_start'][0]:.2f}, at end "
               f"{machine.get('loadavg_at_end', [0])[0]:.2f}; run took {machine.get('elapsed_s')} s.  \n")
    out.append(f"Software: Dovecot {machine['dovecot']}, nginx {machine['nginx']}, libuv "
               f"{machine['libuv']}, BoringSSL {machine['boringssl']}, postal {machine['postal']}; "
               f"popgate {machine['popgate_commit']}{' (modified)' if machine['popgate_dirty'] else ''}"
               f" ({machine['popgate_build_type']})"
               + (f", binary {machine['popgate_binary']}" if machine.get("popgate_binary") else "")
               + (f"; Cyrus IMAP {machine['cyrus']}" if machine.get("cyrus") else "") + ".  \n")
    out.append(f"Corpus: {corpus['poll_users']} poll users x {corpus['poll_messages_each']} messages; "
               f"{corpus['bulk_users']} bulk users x {corpus['bulk_messages_each']} messages "
               f"({corpus['bulk_sizes']['min']:,}–{corpus['bulk_sizes']['max']:,} bytes, mean "
               f"{corpus['bulk_sizes']['mean']:,}); one message of {big_size:,} bytes (100 MiB as served; "
               f"every file stored with LF line ends, as Dovecot stores mail). Written in {corpus['write_s']} s, indexed in {corpus['index_s']} s.\n")
    if corpus.get("cyrus"):
        cy = corpus["cyrus"]
        out.append(f"Cyrus store: the same poll and bulk mailboxes with CRLF line ends, {cy['messages']:,} "
                   f"messages stored over IMAP (MULTIAPPEND) in {cy['append_s']} s ({cy['messages_per_s']}/s); "
                   "no big message (big runs on the Dovecot targets only).\n")
    cols = [TITLES[t] for t in targets]

    # --- poll ---
    concs = [c for c in plan["poll_concurrency"] if any(R.get(f"poll-c{c}-{t}") for t in targets)]
    if concs:
        out.append("\n## poll: login, UIDL (500 messages), QUIT\n\n"
                   "Sessions per second (p50 / p99 latency of a whole session, ms)."
                   + _rounds_note(plan) + "\n\n")
        rows = []
        for c in concs:
            row = [c]
            for t in targets:
                run = f"poll-c{c}-{t}"
                rate = R.lg(run, "sessions_per_s")
                lat = R.lg(run, "latency_ms") or {}
                errors = R.lg(run, "errors_total") or 0
                cell = "failed" if rate is None else (
                    f"**{rate:,.0f}** ({lat.get('p50', 0):.1f} / {lat.get('p99', 0):.1f})"
                    if lat.get("count") else f"**{rate:,.0f}** (none finished)")
                cell += f" {errors} errors" if errors and rate is not None else ""
                row.append(cell)
            for a, b, _ in pairs:
                row.append(_rfmt(_ratio(R.lg(f"poll-c{c}-{a}", "sessions_per_s"),
                                        R.lg(f"poll-c{c}-{b}", "sessions_per_s"))))
            rows.append(row)
        header = ["clients"] + cols + [title for _, _, title in pairs]
        out.append(_table(header, rows))

    # --- bulk ---
    concs = [c for c in plan["bulk_concurrency"] if any(R.get(f"bulk-c{c}-{t}") for t in targets)]
    if concs:
        out.append("\n## bulk: login, LIST, RETR every message, QUIT\n\n"
                   "Message octets per second, MB/s (10^6 bytes; p50 session time, ms)."
                   + _rounds_note(plan) + "\n\n")
        rows = []
        for c in concs:
            row = [c]
            for t in targets:
                run = f"bulk-c{c}-{t}"
                rate = R.lg(run, "mb_per_s")
                lat = R.lg(run, "latency_ms") or {}
                errors = R.lg(run, "errors_total") or 0
                p50 = f"{lat['p50']:,.0f}" if lat.get("count") else "none finished"
                row.append("failed" if rate is None else f"**{rate:,.1f}** ({p50})"
                           + (f" {errors} errors" if errors else ""))
            for a, b, _ in pairs:
                row.append(_rfmt(_ratio(R.lg(f"bulk-c{c}-{a}", "mb_per_s"),
                                        R.lg(f"bulk-c{c}-{b}", "mb_per_s"))))
            rows.append(row)
        header = ["clients"] + cols + [title for _, _, title in pairs]
        out.append(_table(header, rows))

    # --- big ---
    if R.get("big-fast-floor") or R.get("big-slow-floor"):
        rate = plan["slow_rate"]
        size = R.lg("big-fast-floor", "message_bytes") or corpus["big_bytes_lf"]
        out.append(f"\n## big: RETR of one {size / 2**20:.0f} MiB message\n\n"
                   f"Slow reader: the client reads at {rate}B/s; fast: as fast as it can. Wall "
                   "time from RETR to the final `.` (floor: from `UID FETCH n BODY.PEEK[]` to its "
                   "tagged OK, straight from the IMAP server). RSS growth: peak resident memory "
                   "the target's processes added during the RETR (new per-session processes "
                   "counted whole, sampled every 10 ms); the timed fast runs sample nothing, "
                   "like the floor, and the fast reader's memory comes from one more run.\n\n")
        rows = []
        repeats = len(R.repeats("big-fast-floor"))
        for t in ["floor"] + list(targets):
            row = [TITLES.get(t, "IMAP fetch (floor)")]
            for speed in ("slow", "fast"):
                run = f"big-{speed}-{t}"
                wall = R.median_wall(run)
                floor = R.median_wall(f"big-{speed}-floor")
                growth = R.max_growth(run)
                shown = _fmt(wall, 3) if wall else ("failed" if R.get(run) else "—")
                if wall and speed == "fast" and repeats > 1:
                    shown += f" ({_fmt(R.min_wall(run), 3)})"
                row += [shown, "" if t == "floor" else _rfmt(_ratio(wall, floor)),
                        "" if t == "floor" or growth is None else f"{growth / 1024:,.1f}"]
            rows.append(row)
        out.append(_table(["target", "slow: wall s", "vs floor", "RSS growth MiB",
                           f"fast: wall s, median of {repeats} (min)", "vs floor",
                           "RSS growth MiB (max)"], rows))

    # --- idle ---
    if any(R.get(f"idle-{k}-{t}") for k in ("plain", "tls") for t in targets):
        out.append(f"\n## idle: connections that connect and wait\n\n"
                   f"{plan['idle_plain']:,} plain and {plan['idle_tls']:,} TLS (implicit, POP3S) "
                   "connections, greeting read, then held. Memory per connection: (total RSS of the "
                   "target's processes while held − before) / connections held; in parentheses the "
                   "same for private anonymous memory (RssAnon: heap and stacks, no shared "
                   "libraries). KiB. Kernel socket memory is not included for anyone.\n\n")
        rows = []
        for t in targets:
            row = [TITLES[t]]
            for kind in ("plain", "tls"):
                run = f"idle-{kind}-{t}"
                lg = (R.get(run) or {}).get("loadgen") or {}
                rss, anon = R.m(run, "rss_per_conn_kib"), R.m(run, "anon_per_conn_kib")
                during = R.m(run, "during") or {}
                row += [f"**{_fmt(rss)}** ({_fmt(anon)})" if rss is not None else "failed",
                        f"{lg.get('held_at_end', 0):,}/{lg.get('connections', 0):,}",
                        during.get("processes", "—")]
            rows.append(row)
        out.append(_table(["target", "plain KiB/conn", "held", "processes",
                           "TLS KiB/conn", "held", "processes"], rows))

    # --- CPU per GB ---
    bulk_c = max(plan["bulk_concurrency"])
    if any(R.get(f"bulk-c{bulk_c}-{t}") for t in targets):
        out.append(f"\n## CPU per GB relayed\n\n"
                   f"User+system CPU seconds per 10^9 message octets, from /proc (utime+stime+"
                   f"cutime+cstime summed over each process tree), during bulk with {bulk_c} "
                   "clients and the fast big RETR. Gateway: the target's own processes (Dovecot: "
                   "all of the instance; nginx: master and worker); backend: the Dovecot behind it "
                   "(IMAP for imapc and popgate, POP3 for nginx); nginx's auth_http helper is "
                   "counted in its backend column"
                   + ("; for popgate on Cyrus the backend is the whole Cyrus instance, and Cyrus's "
                      "own POP3 is all gateway" if any(t in CYRUS_TARGETS for t in targets) else "")
                   + ".\n\n")
        rows, per_gb = [], {}
        for t in targets:
            row = [TITLES[t]]
            for kind, recs in (("bulk", R.repeats(f"bulk-c{bulk_c}-{t}")),
                               ("big", R.repeats(f"big-fast-{t}"))):
                recs = [r for r in recs if r.get("loadgen")]
                octets = sum((r["loadgen"].get("run_totals") or {}).get("message_bytes")
                             or r["loadgen"].get("message_bytes") or 0 for r in recs)
                gb = octets / 1e9
                if not gb:
                    row += ["—"] * (3 if kind == "bulk" else 2)
                    continue
                gw = sum(r["measure"]["gateway_cpu_s"] for r in recs) / gb
                user = sum(r["measure"].get("gateway_user_s", 0) for r in recs)
                system = sum(r["measure"].get("gateway_system_s", 0) for r in recs)
                be = sum(r["measure"]["backend_cpu_s"] + r["measure"]["aux_cpu_s"] for r in recs) / gb
                if kind == "bulk":
                    per_gb[t] = gw
                    row += [f"**{_fmt(gw, 2)}**",
                            f"{100 * user / (user + system):.0f}%" if user + system else "—",
                            _fmt(be, 2)]
                else:
                    row += [f"**{_fmt(gw, 2)}**", _fmt(be, 2)]
            rows.append(row)
        if has_pg:
            for row, t in zip(rows, targets):
                row.append(_rfmt(_ratio(per_gb.get("popgate"), per_gb.get(t))) if t != "popgate" else "")
        out.append(_table(["target", "bulk: gateway s/GB", "of it user", "backend s/GB",
                           "big: gateway s/GB", "backend s/GB"]
                          + (["popgate / target (bulk)"] if has_pg else []), rows))

        # CPU per poll session: where a session's cost lands.
        pc = [c for c in plan["poll_concurrency"] if c > 1] or plan["poll_concurrency"]
        c = pc[0]
        if any(R.get(f"poll-c{c}-{t}") for t in targets):
            out.append(f"\nCPU per poll session (ms), {c} clients: the gateway's own processes, "
                       "the Dovecot behind it, and the share of the gateway's time in user space."
                       "\n\n")
            rows = []
            for t in targets:
                rec = R.get(f"poll-c{c}-{t}")
                if not rec or not rec.get("loadgen"):
                    continue
                n = rec["loadgen"]["run_totals"]["sessions"]
                m = rec["measure"]
                if not n:
                    continue
                user, system = m.get("gateway_user_s", 0), m.get("gateway_system_s", 0)
                rows.append([TITLES[t], f"**{1e3 * m['gateway_cpu_s'] / n:.2f}**",
                             f"{1e3 * (m['backend_cpu_s'] + m['aux_cpu_s']) / n:.2f}",
                             f"{1e3 * (m['gateway_cpu_s'] + m['backend_cpu_s'] + m['aux_cpu_s']) / n:.2f}",
                             f"{100 * user / (user + system):.0f}%" if user + system else "—"])
            out.append(_table(["target", "gateway ms", "backend ms", "total ms", "gateway user"],
                              rows))

    # --- rabid ---
    rabid_runs = [R.get(f"rabid-{t}") for t in targets if R.get(f"rabid-{t}")]
    if rabid_runs:
        out.append("\n## Outside check: postal's rabid\n\n"
                   f"`rabid -p {plan['rabid_processes']} -d 0:0` for {plan['rabid_s']} s per "
                   "target: each session CAPA, USER/PASS, LIST (500 messages), QUIT; no RETR "
                   "(rabid cannot download without deleting, and printed no report: see "
                   "docs/performance.md). Sessions counted as the logins the target logged "
                   "(nginx: its Dovecot backend).\n\n")
        rows = []
        for t in targets:
            rec = R.get(f"rabid-{t}")
            if not rec:
                continue
            rb = rec["rabid"]
            rows.append([TITLES[t], f"**{_fmt(rb.get('sessions_per_s'))}**", rb.get("errors"),
                         f"{rb.get('rabid_cpu_pct')}%"])
        out.append(_table(["target", "sessions/s", "rabid errors", "rabid CPU"], rows))
        if has_pg and R.get("rabid-popgate"):
            pg = R.get("rabid-popgate")["rabid"].get("sessions_per_s")
            ratios = ", ".join(
                f"{_rfmt(_ratio(pg, R.get(f'rabid-{p}')['rabid'].get('sessions_per_s')))} "
                f"{TITLES[p]}" for p in peers if R.get(f"rabid-{p}"))
            out.append(f"\npopgate vs peers (rabid): {ratios}.\n")

    # --- goals ---
    out.append(cyrus_section(R, plan, targets, TITLES))
    rows = (goals(R, plan, targets) if has_pg else []) + cyrus_goals(R, plan, targets)
    if rows:
        out.append("\n## Goals (from the issue; reported, not asserted)\n\n")
        out.append(_table(["goal", "measured", "met"], rows))

    # --- health ---
    out.append("\n## Load generator and machine\n\n"
               "Load generator CPU (% of one core, highest in each scenario), CPU used on the "
               "machine by anything else during the runs (other users' work; runs of 2 s or "
               "more with over 15 % were repeated, up to twice; runs under 2 s are too short "
               "to judge with /proc's 10 ms ticks), and problem lines the targets logged.\n\n")
    rows = []
    for scenario in ("poll", "bulk", "big", "idle", "rabid"):
        recs = [r for r in records if r["run"].startswith(scenario + "-")]
        if not recs:
            continue
        lg_pct = [((r.get("loadgen") or {}).get("loadgen_cpu") or {}).get("cpu_pct", 0)
                  or (r.get("rabid") or {}).get("rabid_cpu_pct", 0) for r in recs]
        other = [r["measure"].get("other_cpu_pct", 0) for r in recs]
        problems = {}
        for r in recs:
            n = r["measure"].get("log_problems", {}).get("count", 0)
            if n:
                problems[r["run"]] = n
        failed = [r["run"] for r in recs if r.get("loadgen") is None and "rabid" not in r]
        disturbed = [f"{r['run']} ({r['measure']['other_cpu_pct']:.0f}%)" for r in recs
                     if r["measure"].get("wall_s", 0) >= 2 and r["measure"].get("other_cpu_pct", 0) > 15]
        rows.append([scenario, f"{max(lg_pct):.0f}%", f"{max(other):.0f}%",
                     ", ".join(disturbed) or "none",
                     ", ".join(f"{k}: {v}" for k, v in problems.items()) or "none",
                     ", ".join(failed) or "none"])
    out.append(_table(["scenario", "loadgen (rabid) CPU max", "other CPU max",
                       "disturbed runs kept (other > 15 %, after 2 repeats)", "log problems",
                       "failed runs"], rows))
    crashes = [r for r in records if r["run"] == "popgate-crash"]
    if crashes:
        out.append(f"\n**popgate exited during the run {len(crashes)} time(s)** "
                   f"(exit codes {[c['measure']['exit_code'] for c in crashes]}); its log is "
                   "kept next to this summary.\n")
    samples = []
    for r in records:
        lp = r.get("measure", {}).get("log_problems", {})
        for s in lp.get("samples", [])[:2]:
            samples.append(f"- {r['run']}: `{s}`")
        errs = (r.get("loadgen") or {}).get("error_samples") or {}
        for s in list(errs.values())[:2]:
            samples.append(f"- {r['run']} (client): `{s}`")
    if samples:
        out.append("\nFirst problems seen:\n\n" + "\n".join(samples[:40]) + "\n")
    return "".join(out)


def rewrite(directory, known_targets):
    """summary.md again from a results directory's JSON (e.g. after changing the report)."""
    with open(os.path.join(directory, "machine.json")) as f:
        meta = json.load(f)
    records = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json") and name != "machine.json" and ".disturbed-" not in name:
            with open(os.path.join(directory, name)) as f:
                records.append(json.load(f))
    records.sort(key=lambda r: r.get("started", 0))
    targets = [t for t in known_targets if any(r.get("target") == t for r in records)]
    text = summary(records, meta["machine"], meta["corpus"], meta["plan"],
                   meta.get("command", "?"), targets)
    with open(os.path.join(directory, "summary.md"), "w") as f:
        f.write(text)
    return text
