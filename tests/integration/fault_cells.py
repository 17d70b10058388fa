"""The cells of the fault matrix (test_faults.py): which connection, which protocol step, which
fault (fault_relay.Fault) and which scenario drives the session; and the table of outcomes that
POPGATE_WRITE_FAULT_TABLE writes into docs/reliability.md."""

from fault_relay import Fault

# --- cells --------------------------------------------------------------------------------

IMAP = "popgate -> Dovecot"
IMAP_TLS = "popgate -> Dovecot (TLS)"
CLIENT = "client -> popgate"

LOGIN = rb"^\S+ (AUTHENTICATE|LOGIN) "
SNAPSHOT = rb"^\S+ UID FETCH 1:\* "
RETR2 = rb"^\S+ UID FETCH 2 \(BODY\.PEEK\[\]\)"
TOP2 = rb"^\S+ UID FETCH 2 \(BODY\.PEEK\[HEADER\]\)"
SELECT = rb"^\S+ SELECT "
STORE = rb"^\S+ UID STORE \S+ \+FLAGS"
EXPUNGE = rb"^\S+ UID EXPUNGE "
LOGOUT = rb"^\S+ LOGOUT"
STARTTLS = rb"^\S+ STARTTLS"


class Cell:
    def __init__(self, side, step, fault_text, fault, scenario, tls=None, strike=None,
                 read_ahead=False):
        self.side, self.step, self.fault_text = side, step, fault_text
        self.fault, self.scenario, self.tls, self.strike = fault, scenario, tls, strike
        self.read_ahead = read_ahead  # the default read_ahead_bytes, else 0 (one FETCH a RETR)
        self.name = None  # c01, c02, ...: folder, backend and domain
        self.relay = None
        self.outcome = None  # (client sees, mailbox afterwards)


def cells():
    """Every (step x fault) cell, with the scenario that drives it and checks its outcome."""
    f = Fault
    return [
        Cell(IMAP, "connect", "refused", f("refuse"), "login_fails"),
        Cell(IMAP, "greeting", "reset", f("reset"), "login_fails"),
        Cell(IMAP, "greeting", "stall", f("stall"), "login_fails"),
        Cell(IMAP, "greeting", "trickle 20 B", f("trickle", when="reply"), "full_session"),
        Cell(IMAP, "whole session", "delay 0.2 s per chunk", f("delay", seconds=0.2),
             "full_session"),
        Cell(IMAP, "login", "reset", f("reset", LOGIN), "login_fails"),
        Cell(IMAP, "login", "stall", f("stall", LOGIN), "login_fails"),
        Cell(IMAP, "login reply", "cut after 5 B", f("cut", LOGIN, "reply", 5), "login_fails"),
        Cell(IMAP, "snapshot", "reset", f("reset", SNAPSHOT), "login_fails"),
        Cell(IMAP, "snapshot reply", "stall", f("stall", SNAPSHOT, "reply"), "login_fails"),
        Cell(IMAP, "snapshot reply", "cut after 200 B", f("cut", SNAPSHOT, "reply", 200),
             "login_fails"),
        Cell(IMAP, "RETR start", "reset", f("reset", RETR2), "retr_fails"),
        Cell(IMAP, "RETR start", "stall", f("stall", RETR2), "retr_fails"),
        Cell(IMAP, "RETR middle", "reset after 20,000 B", f("reset", RETR2, "reply", 20000),
             "retr_cut"),
        Cell(IMAP, "RETR middle", "stall after 20,000 B", f("stall", RETR2, "reply", 20000),
             "retr_cut"),
        Cell(IMAP, "RETR middle", "cut after 20,000 B", f("cut", RETR2, "reply", 20000),
             "retr_cut"),
        Cell(IMAP, "RETR middle, read-ahead on", "reset after 20,000 B",
             f("reset", RETR2, "reply", 20000), "retr_cut", read_ahead=True),
        Cell(IMAP, "RETR reply", "trickle 20 B", f("trickle", RETR2, "reply"), "full_session"),
        Cell(IMAP, "TOP", "reset", f("reset", TOP2), "top_fails"),
        Cell(IMAP, "TOP reply", "stall", f("stall", TOP2, "reply"), "top_fails"),
        Cell(IMAP, "after DELE (idle)", "reset", None, "dele_then_quit_fails", strike="reset"),
        Cell(IMAP, "QUIT's SELECT", "reset", f("reset", SELECT), "quit_fails"),
        Cell(IMAP, "QUIT's UID STORE", "reset", f("reset", STORE), "quit_fails"),
        Cell(IMAP, "UID STORE reply", "stall", f("stall", STORE, "reply"), "quit_fails"),
        Cell(IMAP, "UID STORE reply, then the client resets", "stall",
             f("stall", STORE, "reply"), "client_gone_during_quit"),
        Cell(IMAP, "between STORE and EXPUNGE", "reset", f("reset", EXPUNGE), "quit_fails"),
        Cell(IMAP, "between STORE and EXPUNGE", "stall", f("stall", EXPUNGE), "quit_fails"),
        Cell(IMAP, "EXPUNGE reply", "reset", f("reset", EXPUNGE, "reply"), "quit_answer_lost"),
        Cell(IMAP, "EXPUNGE reply", "stall", f("stall", EXPUNGE, "reply"), "quit_answer_lost"),
        Cell(IMAP, "EXPUNGE reply", "trickle 20 B", f("trickle", EXPUNGE, "reply"),
             "full_session"),
        Cell(IMAP, "LOGOUT", "reset", f("reset", LOGOUT), "full_session"),
        Cell(IMAP, "LOGOUT", "stall", f("stall", LOGOUT), "full_session"),
        Cell(IMAP_TLS, "STARTTLS", "reset", f("reset", STARTTLS), "login_fails", tls="starttls"),
        Cell(IMAP_TLS, "STARTTLS handshake", "stall after its OK",
             f("stall", STARTTLS, "reply", after_lines=1),
             "login_fails", tls="starttls"),
        Cell(IMAP_TLS, "STARTTLS handshake", "cut after its OK",
             f("cut", STARTTLS, "reply", 0, after_lines=1), "login_fails", tls="starttls"),
        Cell(IMAP_TLS, "IMAPS handshake", "reset", f("reset", when="reply"), "login_fails",
             tls="implicit"),
        Cell(IMAP_TLS, "IMAPS handshake", "cut after 100 B", f("cut", when="reply",
             after_bytes=100), "login_fails", tls="implicit"),
        Cell(IMAP_TLS, "IMAPS handshake", "stall", f("stall", when="reply"), "login_fails",
             tls="implicit"),
        Cell(IMAP_TLS, "IMAPS session", "delay 0.2 s per chunk", f("delay", seconds=0.2),
             "full_session", tls="implicit"),
        Cell(CLIENT, "RETR middle", "reset after 20,000 B", f("reset", rb"^RETR 2", "reply",
             20000), "client_retr_cut"),
        Cell(CLIENT, "QUIT", "reset", f("reset", rb"^QUIT"), "client_quit_reset"),
    ]



# --- the table ------------------------------------------------------------------------------

SECTION = "## Fault matrix"

INTRO = """\
Generated by `tests/integration/test_faults.py` (run it with
`POPGATE_WRITE_FAULT_TABLE=docs/reliability.md` to rewrite this section). A relay
(`tests/integration/fault_relay.py`) between popgate and a real Dovecot 2.3, or between the
client and popgate, breaks the connection when the named command passes: *reset* is a TCP RST,
*cut* a FIN, *stall* forwards nothing more, *trickle* sends 20 bytes 1 per 100 ms, *delay* holds
every chunk. popgate's upstream timeouts are 2 s where the relay stalls and 60 s elsewhere, so a
reset or cut must be noticed as such, not by a timeout. Every cell also checks that no RETR was
ended with "." short of the message's exact bytes, that the next session of the mailbox lists
every message not deleted with no `\\Deleted` flag left, that a session opened before the faults
still reads its mail, and that popgate's memory returns to its baseline.

Known limit: on a server whose PERMANENTFLAGS allow no new keywords, QUIT stores `\\Deleted`
without `$PopgateDeleting`, and a break between UID STORE and UID EXPUNGE leaves the flag upstream
(Dovecot, Cyrus and Courier allow keywords; a mailbox popgate opened lists `$PopgateDeleting` in
its FLAGS there, since the login searches for it). A deletion whose EXPUNGE answer is lost is
done but reported as `-ERR`: POP3 cannot say "perhaps", and a retry finds the messages gone.
Without ESEARCH (Courier) the login's search lists every flagged UID on one line of at most
256 KiB: a break in a QUIT of more than about 30,000 messages would fail every later login
of that mailbox until the flags are cleared by hand.
"""


def write_table(path, all_cells):
    rows = ["| connection | step | fault | the POP3 client sees | the mailbox afterwards |",
            "| --- | --- | --- | --- | --- |"]
    for cell in all_cells:
        seen, mailbox = cell.outcome
        rows.append(f"| {cell.side} | {cell.step} | {cell.fault_text} | {seen} | {mailbox} |")
    section = f"{SECTION}\n\n{INTRO}\n" + "\n".join(rows) + "\n"
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Reliability\n"
    start = text.find(SECTION + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + (text[end:] if end >= 0 else "")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
