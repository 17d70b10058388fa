"""popgate with an `imap` backend on Courier-IMAP and on Cyrus IMAP, against each store's own
pop3d on the same mailbox (Dovecot: test_differential.py). With the matching `uidl_format`
preset, every reply must be the store's own, byte for byte, except for the differences each
class lists in DIFFERENCES, which are the store's own choices; status-line texts differ by
design everywhere, so multi-line replies and errors are compared by status (+OK / -ERR) and
body, while STAT, `LIST n` and `UIDL n` (formats fixed by RFC 1939) are compared whole.

Then real clients (mpop with --uidls-file, fetchmail with its idfile) download everything from
the store's own POP3 and are pointed at popgate: they must find nothing new.

Corpora (each store's accepted, unrewritten part of tricky_messages(), plus):
- Courier rewrites on APPEND (see courier_sandbox.py): the bare-LF message (LF becomes CRLF),
  the bare-CR one (the CR is dropped) and the one without a final CRLF (one is added) are left
  out. Added: HEADER_ONLY (header lines, no blank line, no final CRLF: Courier adds the CRLF)
  and EIGHT_BIT_HEADER (for the wrapping difference below).
- Cyrus refuses the bare-LF message ("NO Message contains bare newlines") and HEADER_ONLY
  ("NO Message contains invalid header"): it gets HEADER_ONLY_CRLF, the same with a final CRLF
  (still no blank line). EIGHT_BIT_HEADER is left out: Cyrus stores its 8-bit header bytes as
  'X' (munge8bit).
"""

import os
import re
import unittest

import popgate_fixture as pf
import courier_sandbox  # popgate_fixture put scripts/ on the path
import cyrus_sandbox
from dovecot_sandbox import BOB, DAVE, _msg, tricky_messages
from store_tests import SMALL, StoreTests, without

HEADER_ONLY = b"From: header-only@example.net\r\nSubject: header only, no blank line"
HEADER_ONLY_CRLF = HEADER_ONLY + b"\r\n"
EIGHT_BIT_HEADER = _msg(b"8-bit header: caf\xc3\xa9",
                        b"The subject line has UTF-8 in it.\r\n",
                        b"Content-Type: text/plain; charset=utf-8\r\n")


class CourierTest(StoreTests, pf.GatewayTestCase):
    """Courier-IMAP 5.0.13 and its courierpop3d (scripts/courier_sandbox.py)."""

    UIDL_FORMAT = "courier"
    UIDL_TEMPLATE = "UID%u-%v"
    CORPUS = without(tricky_messages(), "bare lf", "bare cr", "no final crlf") + \
        [HEADER_ONLY, EIGHT_BIT_HEADER]
    DIFFERENCES = {
        "8-bit header": "courierpop3d sends a message whose header has 8-bit bytes wrapped in a "
                        "multipart 'Cannot display Unicode content' notice (RFC 6856: the client "
                        "did not ask for UTF8), with the message as a message/global part: RETR "
                        "and TOP differ and RETR's size is not LIST's. popgate sends the message "
                        "as stored.",
        "TOP n -1": "courierpop3d parses TOP's line count as unsigned: `TOP n -1` is +OK with the "
                    "whole message; popgate answers -ERR (RFC 1939: a non-negative number).",
        "\\Seen": "courierpop3d's RETR sets \\Seen (renames the file to :2,S); popgate reads with "
                  "BODY.PEEK and changes no flag.",
        "order": "courierpop3d orders by Maildir file name, popgate by UID. Two APPENDs in one "
                 "second can sort against their UIDs (the microseconds in the name are not "
                 "zero-padded); courier_sandbox.seed() avoids that, so the orders agree here "
                 "(test_courier_sandbox.test_pop3_orders_by_file_name shows the other case).",
        "UIDL numbering": "courierpop3d numbers messages itself (courierpop3dsizelist), not by "
                          "IMAP UID/UIDVALIDITY; the sandbox aligns both counters, so `courier` "
                          "matches here (test_courier_sandbox.test_pop3_uidl_is_pop3ds_own_"
                          "numbering shows a Maildir where it cannot).",
    }

    @classmethod
    def make_sandbox(cls):
        return courier_sandbox.Sandbox(os.path.join(cls.workdir, "courier")).start()

    @classmethod
    def stored_form(cls, raw):
        return courier_sandbox.courier_form(raw)

    def store_only_reply(self, n, command, store_reply, popgate_reply):
        if self.messages[n - 1] is EIGHT_BIT_HEADER and command.startswith(("RETR", "TOP")):
            # DIFFERENCES["8-bit header"]
            self.assertTrue(store_reply.startswith(b"+OK"), store_reply[:200])
            self.assertIn(b"Subject: Cannot display Unicode content\r\n", store_reply)
            self.assertTrue(popgate_reply.startswith(b"+OK"), popgate_reply[:200])
            self.assertTrue(pf.unstuff(popgate_reply).startswith(
                self.stored_form(EIGHT_BIT_HEADER)[:40]), popgate_reply[:200])
            return True
        return False

    def test_store_wraps_8bit_header(self):
        n = self.messages.index(EIGHT_BIT_HEADER) + 1
        gw, store = self.sessions()
        listed = store.cmd(f"LIST {n}")
        self.assertEqual(gw.cmd(f"LIST {n}"), listed)
        retr = store.cmd_multi(f"RETR {n}")
        self.assertIn(b"Content-Type: message/global\r\n\r\n" + EIGHT_BIT_HEADER, retr)
        self.assertNotEqual(int(retr.split()[1]), int(listed.split()[2]))  # "+OK N octets follow."
        self.assertEqual(pf.unstuff(gw.cmd_multi(f"RETR {n}")), self.stored_form(EIGHT_BIT_HEADER))

    def test_top_minus_one(self):
        # DIFFERENCES["TOP n -1"]
        gw, store = self.sessions()
        self.assertEqual(pf.unstuff(store.cmd_multi("TOP 1 -1")), self.stored_form(self.messages[0]))
        self.assertTrue(gw.cmd("TOP 1 -1").startswith(b"-ERR"))

    def test_uidls_differ_in_a_maildir_courier_made_itself(self):
        """DIFFERENCES["UIDL numbering"]: in a Maildir whose courierimapuiddb and
        courierpop3dsizelist Courier made itself, no IMAP-based UIDL equals pop3d's: imapd's
        UIDVALIDITY is the time minus 10^9, pop3d's the time of its first login."""
        self.addCleanup(self.sandbox.new_maildir, BOB[0])  # aligned again for the other tests
        self.sandbox.new_maildir(BOB[0], align_uids=False)
        self.sandbox.seed(*BOB, SMALL[:2], pop3_sync=False)
        store_uidl = self.store_session(BOB).cmd_multi("UIDL")
        gw_uidl = self.gateway_session(*BOB).cmd_multi("UIDL")
        pattern = rb"\+OK\r\n1 UID1-(\d+)\r\n2 UID2-(\d+)\r\n\.\r\n"
        store_v, gw_v = (re.fullmatch(pattern, r) for r in (store_uidl, gw_uidl))
        self.assertTrue(store_v and gw_v, (store_uidl, gw_uidl))
        self.assertAlmostEqual(int(store_v.group(1)) - int(gw_v.group(1)), 10 ** 9, delta=120)

    def test_store_retr_sets_seen_popgate_does_not(self):
        # DIFFERENCES["\\Seen"], on bob's small mailbox.
        self.fresh_small_mailbox()

        def seen():
            conn = self.sandbox.imap(*BOB)
            try:
                conn.select("INBOX", readonly=True)
                typ, data = conn.fetch("1:*", "(FLAGS)")
                return [b"\\Seen" in item for item in data]
            finally:
                conn.logout()
        gw = self.gateway_session(*BOB)
        self.assertTrue(gw.cmd_multi("RETR 1").startswith(b"+OK"))
        gw.cmd("QUIT")
        self.assertEqual(seen(), [False] * len(SMALL))
        store = self.store_session(BOB)
        self.assertTrue(store.cmd_multi("RETR 2").startswith(b"+OK"))
        self.assertTrue(store.cmd_multi("TOP 3 0").startswith(b"+OK"))
        store.cmd("QUIT")
        self.assertEqual(seen(), [False, True, False, False, False])


class CyrusTest(StoreTests, pf.GatewayTestCase):
    """Cyrus IMAP 3.6.1 and its pop3d (scripts/cyrus_sandbox.py). Nothing differs but the
    status-line texts: Cyrus's pop3d answers `TOP n -1` with -ERR too and sets no flag."""

    UIDL_FORMAT = "cyrus"
    UIDL_TEMPLATE = "%v.%u"
    CORPUS = without(tricky_messages(), "bare lf") + [HEADER_ONLY_CRLF]
    DIFFERENCES = {}

    @classmethod
    def make_sandbox(cls):
        return cyrus_sandbox.Sandbox(os.path.join(cls.workdir, "cyrus")).start()

    def test_top_minus_one(self):
        gw, store = self.sessions()
        self.compare(gw, store, ["TOP 1 -1"])

    def test_header_only_without_final_crlf_is_refused(self):
        # Why the Cyrus corpus has HEADER_ONLY_CRLF instead (dave's INBOX stays empty).
        with self.assertRaisesRegex(RuntimeError, "Message contains invalid header"):
            self.sandbox.seed(*DAVE, [HEADER_ONLY])

if __name__ == "__main__":
    unittest.main()
