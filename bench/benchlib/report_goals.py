"""The goals of the issues, checked against one run (reported, not asserted), and the Cyrus
store's comparison: popgate over JMAP against popgate over IMAP on the same Cyrus."""

from .markdown import ratio as _ratio, rfmt as _rfmt, table as _table


def _check(rows, name, values, bound, higher_is_better=True, unit="x"):
    vals = [v for v in values if v is not None]
    if not vals:
        rows.append([name, "not measured", "—"])
        return
    worst = min(vals) if higher_is_better else max(vals)
    ok = worst >= bound if higher_is_better else worst <= bound
    shown = ", ".join(f"{v:.2f}{unit}" for v in values if v is not None)
    rows.append([name, shown, "yes" if ok else "**no**"])


def goals(R, plan, targets):
    """popgate against the peers on the Dovecot store."""
    rows = []

    def check(*args):
        _check(rows, *args)

    pc = plan["poll_concurrency"]
    bc = plan["bulk_concurrency"]
    ratio = lambda run_a, run_b, key: _ratio(R.lg(run_a, key), R.lg(run_b, key))  # noqa: E731
    if "imapc" in targets:
        check(f"poll >= 3x Dovecot-imapc (clients {pc})",
              [ratio(f"poll-c{c}-popgate", f"poll-c{c}-imapc", "sessions_per_s") for c in pc], 3)
    if "dovecot" in targets:
        check(f"poll >= 0.9x Dovecot native (clients {pc})",
              [ratio(f"poll-c{c}-popgate", f"poll-c{c}-dovecot", "sessions_per_s") for c in pc], 0.9)
    if "imapc" in targets:
        check(f"bulk >= 2x Dovecot-imapc (clients {bc})",
              [ratio(f"bulk-c{c}-popgate", f"bulk-c{c}-imapc", "mb_per_s") for c in bc], 2)
    if "dovecot" in targets:
        check(f"bulk >= 0.9x Dovecot native (clients {bc})",
              [ratio(f"bulk-c{c}-popgate", f"bulk-c{c}-dovecot", "mb_per_s") for c in bc], 0.9)
    growth = [R.max_growth(f"big-{s}-popgate") for s in ("slow", "fast")]
    check("big: RSS growth <= 4 MiB (slow, fast reader)",
          [g / 1024 if g is not None else None for g in growth], 4, False, " MiB")
    check("big: wall time <= 1.1x direct IMAP fetch (slow, fast reader)",
          [_ratio(R.median_wall(f"big-{s}-popgate"), R.median_wall(f"big-{s}-floor"))
           for s in ("slow", "fast")], 1.1, False)
    check("idle <= 10 KiB per plain connection (RSS)",
          [R.m("idle-plain-popgate", "rss_per_conn_kib")], 10, False, " KiB")
    if "nginx" in targets:
        c = max(bc)

        def per_gb(t):
            rec = R.get(f"bulk-c{c}-{t}")
            if not rec or not rec.get("loadgen"):
                return None
            octets = rec["loadgen"]["run_totals"]["message_bytes"]
            return rec["measure"]["gateway_cpu_s"] / (octets / 1e9) if octets else None
        check(f"CPU per GB relayed <= 1.5x nginx (bulk, {c} clients)",
              [_ratio(per_gb("popgate"), per_gb("nginx"))], 1.5, False)
    return rows


# --- the Cyrus store ---------------------------------------------------------------------------

JMAP, IMAP, POP3D = "popgate-jmap", "popgate-cyrus-imap", "cyrus-pop3d"
CYRUS_TARGETS = (JMAP, IMAP, POP3D)
# Ratio columns of the poll and bulk tables between targets on the Cyrus store.
CYRUS_PAIRS = {(JMAP, IMAP): "JMAP / IMAP (Cyrus)", (JMAP, POP3D): "JMAP / Cyrus POP3",
               (IMAP, POP3D): "IMAP (Cyrus) / Cyrus POP3"}


def _cpu(R, run, per):
    """(popgate's CPU, Cyrus's CPU) of a run divided by `per`(record); popgate's is None for
    Cyrus's own POP3 (its gateway is Cyrus)."""
    recs = [r for r in R.repeats(run) if r.get("loadgen")]  # with --rounds: all of them
    n = sum(per(r) for r in recs)
    if not n:
        return None, None
    gateway = sum(r["measure"]["gateway_cpu_s"] for r in recs) / n
    if recs[0]["target"] == POP3D:
        return None, gateway
    return gateway, sum(r["measure"]["backend_cpu_s"] for r in recs) / n


def _per_message(R, run, key):
    """A gateway activity count (gateway_read_calls, ...) per message relayed, over every round;
    None for records from before it was measured."""
    recs = [r for r in R.repeats(run) if r.get("loadgen")]
    if not recs or any(key not in r["measure"] for r in recs):
        return None
    messages = sum(r["loadgen"]["run_totals"]["messages"] for r in recs)
    return sum(r["measure"][key] for r in recs) / messages if messages else None


def _per_gb(rec):
    return rec["loadgen"]["run_totals"]["message_bytes"] / 1e9


def _per_ms_session(rec):
    return rec["loadgen"]["run_totals"]["sessions"] / 1e3


def cyrus_section(R, plan, targets, titles):
    shown = [t for t in CYRUS_TARGETS if t in targets]
    if not shown:
        return ""
    bc, pc = max(plan["bulk_concurrency"]), ([c for c in plan["poll_concurrency"] if c > 1]
                                             or plan["poll_concurrency"])[0]
    rows = []

    def row(name, values, digits):
        values = dict(zip(shown, values))
        cells = ["—" if values[t] is None else f"{values[t]:,.{digits}f}" for t in shown]
        ratio = _rfmt(_ratio(values.get(JMAP), values.get(IMAP))) if JMAP in values else "—"
        rows.append([name] + cells + [ratio])

    for c in plan["poll_concurrency"]:
        if any(R.get(f"poll-c{c}-{t}") for t in shown):
            row(f"poll, {c} clients: sessions/s",
                [R.lg(f"poll-c{c}-{t}", "sessions_per_s") for t in shown], 0)
    for c in plan["bulk_concurrency"]:
        if any(R.get(f"bulk-c{c}-{t}") for t in shown):
            row(f"bulk, {c} clients: MB/s", [R.lg(f"bulk-c{c}-{t}", "mb_per_s") for t in shown], 1)
    if any(R.get(f"bulk-c{bc}-{t}") for t in shown):
        cpu = [_cpu(R, f"bulk-c{bc}-{t}", _per_gb) for t in shown]
        row(f"popgate CPU s/GB (bulk, {bc} clients)", [c[0] for c in cpu], 2)
        row(f"Cyrus CPU s/GB (bulk, {bc} clients)", [c[1] for c in cpu], 2)
        for key, what in (("gateway_read_calls", "read calls"),
                          ("gateway_write_calls", "write calls"),
                          ("gateway_switches", "context switches")):
            counts = [None if t == POP3D else _per_message(R, f"bulk-c{bc}-{t}", key)
                      for t in shown]
            if any(c is not None for c in counts):
                row(f"popgate {what} per message (bulk, {bc} clients)", counts, 1)
    if any(R.get(f"poll-c{pc}-{t}") for t in shown):
        cpu = [_cpu(R, f"poll-c{pc}-{t}", _per_ms_session) for t in shown]
        row(f"popgate CPU ms per poll session ({pc} clients)", [c[0] for c in cpu], 2)
        row(f"Cyrus CPU ms per poll session ({pc} clients)", [c[1] for c in cpu], 2)
    rounds = plan.get("rounds", 1)
    if rounds > 1 and JMAP in shown and IMAP in shown:
        for kind, key, concs in (("poll", "sessions_per_s", plan["poll_concurrency"]),
                                 ("bulk", "mb_per_s", plan["bulk_concurrency"])):
            for c in concs:
                pairs = zip(R.each(f"{kind}-c{c}-{JMAP}", key), R.each(f"{kind}-c{c}-{IMAP}", key))
                ratios = [_rfmt(_ratio(a, b)) for a, b in pairs]
                if ratios:
                    rows.append([f"{kind}, {c} clients: JMAP / IMAP in each round"]
                                + [""] * len(shown) + [", ".join(ratios)])
    return ("\n## Cyrus store: popgate over JMAP and over IMAP\n\n"
            "The same poll and bulk mailboxes in one Cyrus IMAP 3.6 instance, served by popgate "
            "with a `jmap` backend (its JMAP), popgate with an `imap` backend (its IMAP)"
            + (" and Cyrus's own POP3" if POP3D in shown else "") + ". popgate CPU: the "
            "popgate process; Cyrus CPU: the whole Cyrus instance (master and every imapd, "
            "httpd, pop3d it forked), from /proc as above. Ratio: JMAP / IMAP, measured in this "
            "run" + (f"; rates are medians of {rounds} rounds, CPU is summed over them"
                     if rounds > 1 else "") + ".\n\n" + _table(["measure"] + [titles[t] for t in shown] + ["JMAP / IMAP"], rows))


def cyrus_goals(R, plan, targets):
    """popgate over JMAP against popgate over IMAP on the same Cyrus."""
    rows = []
    if JMAP not in targets or IMAP not in targets:
        return rows
    pc, bc = plan["poll_concurrency"], plan["bulk_concurrency"]
    _check(rows, f"JMAP poll >= 0.8x popgate over IMAP, same Cyrus (clients {pc})",
           [_ratio(R.lg(f"poll-c{c}-{JMAP}", "sessions_per_s"),
                   R.lg(f"poll-c{c}-{IMAP}", "sessions_per_s")) for c in pc], 0.8)
    _check(rows, f"JMAP bulk >= 0.8x popgate over IMAP, same Cyrus (clients {bc})",
           [_ratio(R.lg(f"bulk-c{c}-{JMAP}", "mb_per_s"), R.lg(f"bulk-c{c}-{IMAP}", "mb_per_s"))
            for c in bc], 0.8)
    c = max(bc)
    _check(rows, f"popgate CPU per GB over JMAP <= 1.2x over IMAP (bulk, {c} clients)",
           [_ratio(_cpu(R, f"bulk-c{c}-{JMAP}", _per_gb)[0],
                   _cpu(R, f"bulk-c{c}-{IMAP}", _per_gb)[0])], 1.2, False)
    return rows
